-- fn_sweep_fixes: functions found wrong by comparing a sweep of expressions with Flink: LOCATE's start, REGEXP_REPLACE's
-- literal replacement, SIMILAR TO's % and _, CAST to TIME(0), weeks from Sunday in FLOOR/CEIL .. TO WEEK, IN with a
-- column in the list, TO_DATE with a pattern, YEAR TO MONTH intervals, CONVERT_TZ, TO_TIMESTAMP_LTZ with a zone
CREATE TABLE t (i INT, n INT, s STRING, ts TIMESTAMP(3), dt DATE, nul INT, ds STRING, zs STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT i, LOCATE('l', s, 4) AS loc_from, LOCATE('l', s) AS loc, REGEXP_REPLACE(s, '([a-z])', '<$1>') AS re_literal,
  REGEXP_REPLACE(s, 'l+', '_') AS re_plain, s SIMILAR TO 'H%' AS sim_prefix, s SIMILAR TO '_bc%' AS sim_one,
  CAST(ts AS TIME) AS t0, CAST(CAST(ts AS TIME) AS STRING) AS t0_str, FLOOR(ts TO WEEK) AS week_start,
  CEIL(ts TO WEEK) AS week_end, FLOOR(dt TO WEEK) AS date_week, i NOT IN (1, nul) AS not_in_col, i IN (n, nul, 7) AS in_col,
  TO_DATE(ds, 'dd/MM/yyyy') AS to_date_pattern, ts + INTERVAL '1-2' YEAR TO MONTH AS plus_ym,
  dt - INTERVAL '2-1' YEAR TO MONTH AS minus_ym, CONVERT_TZ(zs, 'UTC', 'America/Los_Angeles') AS utc_to_la,
  CONVERT_TZ(zs, 'America/Los_Angeles', 'GMT+08:00') AS la_to_plus8,
  TO_TIMESTAMP_LTZ(zs, 'yyyy-MM-dd HH:mm:ss', 'Asia/Tokyo') AS ltz_tokyo, TO_TIMESTAMP_LTZ(zs, 'yyyy-MM-dd HH:mm:ss') AS ltz_utc
FROM t;
