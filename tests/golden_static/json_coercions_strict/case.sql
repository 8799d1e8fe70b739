-- json_coercions_strict: what Flink's JSON format converts without ignore-parse-errors: numbers truncated into
-- integers, numeric strings into numbers, any JSON value into STRING (its text), a year before 0001

CREATE TABLE e (
  id INT,
  b BIGINT,
  i INT,
  d DOUBLE,
  s STRING,
  ts TIMESTAMP(3),
  r ROW<x INT>,
  arr ARRAY<INT>
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/e.json', 'format' = 'json');

SELECT id, b, i, d, s, ts IS NULL AS ts_null, YEAR(ts) AS ts_year, MONTH(ts) AS ts_month, r.x AS rx, r IS NULL AS r_null, CARDINALITY(arr) AS arr_n, arr[1] AS a1, arr[2] AS a2 FROM e;
