-- fn_year_range_ends: TIMESTAMP and DATE values from year 0001 to 9999 (nanoseconds since the epoch in an int64 end
-- in 2262): parsed from strings (TO_TIMESTAMP, CAST), formatted (CAST to STRING, DATE_FORMAT), taken apart
-- (EXTRACT, TIMESTAMPDIFF, FLOOR, CAST to DATE) and moved by intervals. Flink 2.3 puts a TIMESTAMP before 1970 with
-- a fraction of a second on the next day in YEAR, DAYOFYEAR, CAST to DATE and FLOOR to MONTH (1969-12-31
-- 23:59:59.123456 is in 1970): those columns leave such rows out
CREATE TABLE t (id INT, s STRING, ts3 TIMESTAMP(3), ts6 TIMESTAMP(6), d DATE)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, TO_TIMESTAMP(s) AS to_ts, CAST(TO_TIMESTAMP(s) AS STRING) AS to_ts_str, CAST(s AS TIMESTAMP(6)) AS cast6,
  CAST(CAST(s AS TIMESTAMP(6)) AS STRING) AS cast6_str, TO_TIMESTAMP(s, 'yyyy-MM-dd HH:mm:ss') AS to_ts_fmt,
  CAST(ts6 AS STRING) AS ts6_str, DATE_FORMAT(ts6, 'yyyy-MM-dd HH:mm:ss.SSSSSS EEE D') AS fmt6,
  DATE_FORMAT(ts3, 'yyyy/MM/dd HH:mm') AS fmt3, DATE_FORMAT(s, 'yyyy/MM/dd HH:mm:ss') AS fmt_str,
  EXTRACT(EPOCH FROM ts6) AS epoch, EXTRACT(MICROSECOND FROM ts6) AS micros, EXTRACT(NANOSECOND FROM ts6) AS nanos,
  EXTRACT(MILLISECOND FROM ts3) AS millis, CASE WHEN id NOT IN (2, 3) THEN EXTRACT(YEAR FROM ts6) END AS yr,
  CASE WHEN id NOT IN (2, 3) THEN DAYOFYEAR(ts6) END AS doy,
  TIMESTAMPDIFF(DAY, TIMESTAMP '1970-01-01 00:00:00', ts3) AS days, TIMESTAMPDIFF(HOUR, ts6, TIMESTAMP '5000-01-01 00:00:00') AS hours,
  TIMESTAMPDIFF(MONTH, d, DATE '5000-01-01') AS months, TIMESTAMPDIFF(DAY, d, ts6) AS d_days,
  CASE WHEN id NOT IN (2, 3) THEN CAST(ts6 AS DATE) END AS date6, FLOOR(ts6 TO HOUR) AS floor_hour, CASE WHEN id NOT IN (2, 3) THEN FLOOR(ts3 TO MONTH) END AS floor_month,
  CAST(d AS TIMESTAMP(3)) AS d_ts, CAST(d AS STRING) AS d_str, d + INTERVAL '1' DAY AS d_next, d - INTERVAL '1' DAY AS d_prev,
  CAST(ts6 - INTERVAL '1' SECOND AS STRING) AS ts6_back, CAST(TIMESTAMPADD(MONTH, CASE WHEN id = 1 THEN 1 ELSE -1 END, ts6) AS STRING) AS ts6_months,
  TO_DATE(SUBSTRING(s FROM 1 FOR 10)) AS to_date, ts6 > TIMESTAMP '2262-04-11 23:47:16.854775' AS after_ns_end
FROM t;
