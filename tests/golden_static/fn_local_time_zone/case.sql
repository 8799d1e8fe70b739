-- fn_local_time_zone: TIMESTAMP_LTZ values read and written in the session time zone ('table.local-time-zone'):
-- casts to and from TIMESTAMP, STRING and DATE, wall-clock functions (HOUR, EXTRACT, DATE_FORMAT, FLOOR .. TO),
-- FROM_UNIXTIME, UNIX_TIMESTAMP, TO_TIMESTAMP_LTZ of a string; the clock change days of Los Angeles
SET 'table.local-time-zone' = 'America/Los_Angeles';
CREATE TABLE t (id INT, ms BIGINT, str STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, TO_TIMESTAMP_LTZ(ms, 3) AS ltz, CAST(TO_TIMESTAMP_LTZ(ms, 3) AS STRING) AS ltz_str,
  CAST(TO_TIMESTAMP_LTZ(ms, 3) AS TIMESTAMP(3)) AS ltz_local, CAST(TO_TIMESTAMP_LTZ(ms, 3) AS DATE) AS ltz_date,
  HOUR(TO_TIMESTAMP_LTZ(ms, 3)) AS h, EXTRACT(DAY FROM TO_TIMESTAMP_LTZ(ms, 3)) AS d,
  DATE_FORMAT(TO_TIMESTAMP_LTZ(ms, 3), 'yyyy-MM-dd HH:mm:ss.SSS') AS fmt,
  FLOOR(TO_TIMESTAMP_LTZ(ms, 3) TO DAY) AS day_start, CEIL(TO_TIMESTAMP_LTZ(ms, 3) TO HOUR) AS next_hour,
  FROM_UNIXTIME(ms / 1000) AS from_unix, FROM_UNIXTIME(ms / 1000, 'HH:mm') AS from_unix_hm,
  UNIX_TIMESTAMP(str) AS unix_ts, CAST(str AS TIMESTAMP_LTZ(3)) AS str_ltz,
  TO_TIMESTAMP_LTZ(str, 'yyyy-MM-dd HH:mm:ss') AS parsed_ltz, CAST(TO_TIMESTAMP(str) AS TIMESTAMP_LTZ(3)) AS local_ltz,
  TO_TIMESTAMP(str) AS naive, TIMESTAMPADD(DAY, 1, TO_TIMESTAMP_LTZ(ms, 3)) AS plus_day,
  TIMESTAMPDIFF(HOUR, CAST(str AS TIMESTAMP_LTZ(3)), TO_TIMESTAMP_LTZ(ms, 3)) AS diff_hours
FROM t;
