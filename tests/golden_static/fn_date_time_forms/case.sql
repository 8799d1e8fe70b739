-- fn_date_time_forms: TIMESTAMPADD on DATE (days stay a DATE, a time unit makes it a TIMESTAMP(6)), TIME (wraps at
-- midnight) and TIMESTAMP (month ends); EXTRACT from DATE and TIME; TIMESTAMP(6) values in the result
CREATE TABLE t (id INT, d DATE, t TIME(0), ts TIMESTAMP(3), s6 STRING, k INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, TIMESTAMPADD(DAY, k, d) AS d_days, TIMESTAMPADD(WEEK, k, d) AS d_weeks, TIMESTAMPADD(MONTH, k, d) AS d_months,
  TIMESTAMPADD(HOUR, k, d) AS d_hours, CAST(TIMESTAMPADD(MINUTE, k, d) AS STRING) AS d_minutes_str,
  TIMESTAMPADD(SECOND, k * 100, t) AS t_seconds, TIMESTAMPADD(HOUR, k, t) AS t_hours,
  TIMESTAMPADD(MONTH, k, ts) AS ts_months, TIMESTAMPADD(QUARTER, 1, ts) AS ts_quarter, TIMESTAMPADD(YEAR, k, ts) AS ts_years,
  EXTRACT(HOUR FROM t) AS t_hour, EXTRACT(SECOND FROM t) AS t_second, EXTRACT(DAY FROM d) AS d_day,
  EXTRACT(EPOCH FROM d) AS d_epoch, EXTRACT(DOW FROM d) AS d_dow, EXTRACT(WEEK FROM d) AS d_week,
  CAST(s6 AS TIMESTAMP(6)) AS ts6, CAST(CAST(s6 AS TIMESTAMP(6)) AS STRING) AS ts6_str,
  TIMESTAMPDIFF(DAY, CAST(d AS TIMESTAMP(3)), ts) AS diff_days
FROM t;
