-- fn_time_checks: TIMESTAMP(9) keeps nanoseconds; week-year and week-of-year pattern letters; CONVERT_TZ;
-- REGEXP_EXTRACT with two arguments; epoch seconds read in the session time zone
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE t (id INT, ts TIMESTAMP(9), str STRING, sec BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, ts, CAST(ts AS STRING) AS ts_str, ts + INTERVAL '1' SECOND AS ts_plus,
  DATE_FORMAT(ts, 'YYYY-ww') AS yw, DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss.SSSSSSSSS') AS nanos,
  DATE_FORMAT(ts, 'w/W/u/E/EEEE/a/D') AS letters,
  CONVERT_TZ(str, 'UTC', 'America/Los_Angeles') AS la, CONVERT_TZ(str, 'Asia/Tokyo', 'GMT-08:00') AS gmt,
  REGEXP_EXTRACT(str, '\d+-(\d+)') AS re2, REGEXP_EXTRACT(str, '(\d+):(\d+)', 2) AS re3,
  TO_TIMESTAMP_LTZ(sec, 0) AS ltz, CAST(TO_TIMESTAMP_LTZ(sec, 0) AS STRING) AS ltz_str,
  HOUR(TO_TIMESTAMP_LTZ(sec, 0)) AS h, FROM_UNIXTIME(sec) AS fu,
  STR_TO_MAP('a=1&b=2', '&', '=')['b'] AS m
FROM t;
