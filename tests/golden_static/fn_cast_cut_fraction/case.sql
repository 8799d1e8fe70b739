-- fn_cast_cut_fraction: a cast to TIMESTAMP(p) / TIME(p) cuts the fraction to p digits (milliseconds toward zero,
-- so 1969-12-31 23:59:59.5 is 1970-01-01 00:00:00 at TIMESTAMP(0)), for columns and for folded text literals,
-- which are read as the cast reads text when it runs ('2024-1-5', '1:2:3')
CREATE TABLE t (k INT, ts TIMESTAMP(3), tm TIME(3), s STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, CAST(ts AS TIMESTAMP(0)) AS ts0, CAST(ts AS TIMESTAMP(1)) AS ts1, CAST(ts AS TIMESTAMP(2)) AS ts2,
  CAST(CAST(ts AS TIMESTAMP_LTZ(0)) AS TIMESTAMP(3)) AS ltz0, CAST(ts AS TIMESTAMP_LTZ(1)) AS ltz1,
  CAST(tm AS TIME(0)) AS tm0, CAST(tm AS TIME(1)) AS tm1, CAST(CAST(tm AS TIME(0)) AS STRING) AS tm0_text,
  CAST(s AS TIME) AS s_time, TRY_CAST(s AS TIME(1)) AS s_time1, CAST('10:20:30.456' AS TIME) AS lit_time,
  CAST('10:20:30.456' AS TIME(2)) AS lit_time2, CAST('2024-01-05 01:02:03.987' AS TIMESTAMP(0)) AS lit_ts0,
  CAST('2024-01-05 01:02:03.987' AS TIMESTAMP_LTZ(1)) AS lit_ltz1, CAST('2024-1-5' AS DATE) AS lit_date,
  CAST('2024-01-05 1:2:3' AS TIMESTAMP) AS lit_ts_short, CAST(' 2024-01-05 ' AS DATE) AS lit_date_spaces,
  CAST('1:2:3' AS TIME) AS lit_time_short
FROM t;
