-- timestamp9_nanos: TIMESTAMP(9) keeps nanoseconds read from JSON and CSV and cast from strings, through casts to
-- STRING, DATE_FORMAT with nine S's, interval arithmetic, comparisons, TIMESTAMP_LTZ(9) and a week-year pattern
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE t (id INT, ts TIMESTAMP(9), str STRING, sec BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
CREATE TABLE c (id INT, ts TIMESTAMP(9), ltz TIMESTAMP_LTZ(9))
WITH ('connector' = 'filesystem', 'path' = '${DATA}/c.csv', 'format' = 'csv');
SELECT t.id, t.ts, CAST(t.ts AS STRING) AS ts_str, t.ts + INTERVAL '1' SECOND AS ts_plus,
  CAST(t.ts + INTERVAL '1' SECOND AS STRING) AS ts_plus_str,
  DATE_FORMAT(t.ts, 'yyyy-MM-dd HH:mm:ss.SSSSSSSSS') AS nanos, DATE_FORMAT(t.ts, 'YYYY-ww') AS yw,
  CAST(c.ts AS STRING) AS csv_ts, CAST(c.ltz AS STRING) AS csv_ltz, c.ts > t.ts AS later,
  CAST(CAST('2024-05-06 07:08:09.123456789' AS TIMESTAMP(9)) AS STRING) AS cast_lit,
  CAST(CAST(t.str AS TIMESTAMP(9)) AS STRING) AS cast_col
FROM t JOIN c ON t.id = c.id;
