-- fn_interval_text_ltz_compare: CAST of an interval to STRING as Flink writes it ('+1 00:00:00.000', '-0 00:00:03.000',
-- '+1-02') whatever the interval's fields; a TIMESTAMP compared with a TIMESTAMP_LTZ is read as the wall clock in
-- the session zone, and so is a TIMESTAMP beside a TIMESTAMP_LTZ in COALESCE and IN (their type is the LTZ)
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE t (id INT, ts TIMESTAMP(3), ms BIGINT, n INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, CAST(INTERVAL '1' DAY AS STRING) AS day1, CAST(INTERVAL '14' MONTH AS STRING) AS month14,
  CAST(INTERVAL '1:30' HOUR TO MINUTE AS STRING) AS hm, CAST(INTERVAL '-3' SECOND AS STRING) AS neg_sec,
  CAST(INTERVAL '0.5' SECOND AS STRING) AS half_sec, CAST(INTERVAL '-2-3' YEAR TO MONTH AS STRING) AS neg_ym,
  CAST(INTERVAL '2' YEAR AS STRING) AS year2, CAST(INTERVAL '1 02:03:04.567' DAY TO SECOND AS STRING) AS dts,
  CAST(INTERVAL '1' MINUTE * n AS STRING) AS n_minutes, CAST(INTERVAL '1' MONTH * n AS STRING) AS n_months,
  CONCAT('after ', CAST(INTERVAL '7' MINUTE AS STRING)) AS concat_text,
  ts = TO_TIMESTAMP_LTZ(ms, 3) AS eq, ts < TO_TIMESTAMP_LTZ(ms, 3) AS lt, TO_TIMESTAMP_LTZ(ms, 3) >= ts AS ge,
  TO_TIMESTAMP_LTZ(ms, 3) BETWEEN ts - INTERVAL '1' HOUR AND ts + INTERVAL '1' HOUR AS near,
  COALESCE(ts, TO_TIMESTAMP_LTZ(ms, 3)) AS coalesce_ltz,
  TO_TIMESTAMP_LTZ(ms, 3) IN (ts, TIMESTAMP '2020-01-01 08:00:00') AS in_ltz
FROM t;
