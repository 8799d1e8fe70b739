-- fn_temporal_stats_fixes: TIMESTAMPDIFF in months, quarters and years from a DATE; CEIL of a value already on a
-- month, quarter or year boundary stays; TIMESTAMPs in JSON_OBJECT with the fraction's digits as needed; CAST of a
-- TIME to TIMESTAMP and of a DECIMAL to BOOLEAN
CREATE TABLE t (id INT, k STRING, i INT, d DOUBLE, `dec` DECIMAL(10, 2), dec5 DECIMAL(12, 5), ts TIMESTAMP(3),
  ts6 TIMESTAMP(6), dt DATE, tm TIME)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, TIMESTAMPDIFF(WEEK, dt, DATE '2024-12-25') AS n_weeks, TIMESTAMPDIFF(QUARTER, ts, TIMESTAMP '2025-01-01 00:00:00') AS n_quarters,
  TIMESTAMPDIFF(YEAR, dt, ts) AS n_years, TIMESTAMPDIFF(MONTH, dt, DATE '2025-03-31') AS n_months,
  FLOOR(ts TO MONTH) AS floor_month, CEIL(dt TO MONTH) AS ceil_month, CEIL(ts TO QUARTER) AS ceil_quarter,
  CEIL(ts TO DAY) AS ceil_day, CEIL(dt TO YEAR) AS ceil_year, CEIL(ts TO WEEK) AS ceil_week,
  JSON_OBJECT('k' VALUE ts) AS json_ts, JSON_OBJECT('k' VALUE ts6) AS json_ts6,
  CAST(tm AS TIMESTAMP) AS tm_ts, CAST(tm AS TIMESTAMP(3)) AS tm_ts3, CAST(`dec` AS BOOLEAN) AS dec_bool
FROM t;
