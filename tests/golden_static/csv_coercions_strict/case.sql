-- csv_coercions_strict: what Flink's CSV format converts without ignore-parse-errors: integers with a sign, leading
-- zeros or spaces around them, Java's double syntax, BOOLEAN true for 'true' in any case and false for anything
-- else, a day past the month's end clamped in a TIMESTAMP, a one-digit month in a DATE, DECIMAL rounded half up
-- (NULL when too wide)

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
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');

SELECT id, b, i, d, bo, ts, dt, dm, s FROM t;
