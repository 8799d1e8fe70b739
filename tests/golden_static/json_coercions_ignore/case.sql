-- json_coercions_ignore: with json.ignore-parse-errors, malformed documents (a trailing comma, a top-level array,
-- number, string or null) are skipped; a value that does not convert to its column's type is NULL, the row stays

CREATE TABLE e (
  id INT,
  b BIGINT,
  i INT,
  d DOUBLE,
  s STRING,
  ts TIMESTAMP(3),
  r ROW<x INT>,
  arr ARRAY<INT>
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/e.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT id, b, i, d, s, ts IS NULL AS ts_null, YEAR(ts) AS ts_year, MONTH(ts) AS ts_month, r.x AS rx, r IS NULL AS r_null, CARDINALITY(arr) AS arr_n, arr[1] AS a1, arr[2] AS a2 FROM e;
