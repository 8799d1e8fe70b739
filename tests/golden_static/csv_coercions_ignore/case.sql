-- csv_coercions_ignore: with csv.ignore-parse-errors a value Flink's CSV format cannot convert (a decimal into an
-- integer, an empty number, year 10000, a T or Z in a TIMESTAMP, a number too large) is NULL and the row stays

CREATE TABLE t (
  id INT,
  b BIGINT,
  i INT,
  d DOUBLE,
  bo BOOLEAN,
  ts TIMESTAMP(3),
  dt DATE,
  dm DECIMAL(5, 2),
  s STRING
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT id, b, i, d, bo, ts IS NULL AS ts_null, YEAR(ts) AS y, MONTH(ts) AS m, dt, dm, s FROM t;
