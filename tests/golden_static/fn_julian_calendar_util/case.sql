-- fn_julian_calendar_util: the functions Flink computes with java.util's calendar (SimpleDateFormat: UNIX_TIMESTAMP,
-- FROM_UNIXTIME, DATE_FORMAT of a string, TO_DATE with a pattern) read and write dates before 1582-10-15 in the
-- Julian calendar; CAST, TO_TIMESTAMP and TO_DATE without a pattern stay proleptic Gregorian (where
-- 1500-02-29 is no date)
CREATE TABLE t (id INT, s STRING, secs BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, UNIX_TIMESTAMP(s) AS unix, FROM_UNIXTIME(secs) AS from_unix, FROM_UNIXTIME(secs, 'yyyy-MM-dd EEE D') AS from_unix_fmt,
  DATE_FORMAT(s, 'yyyy-MM-dd HH:mm') AS fmt_str, TO_DATE(SUBSTRING(s FROM 1 FOR 10), 'yyyy-MM-dd') AS to_date_fmt,
  CASE WHEN id <> 3 THEN TO_DATE(SUBSTRING(s FROM 1 FOR 10)) END AS to_date,
  CASE WHEN id <> 3 THEN TO_TIMESTAMP(s) END AS to_ts, CASE WHEN id <> 3 THEN CAST(s AS TIMESTAMP(3)) END AS cast_ts
FROM t;
