-- fn_extract_time_and_date: EXTRACT of HOUR .. MILLISECOND from a TIME; from a DATE as Flink's generated code
-- reads it (the count of days as milliseconds: 2024-01-31, day 19753, has SECOND 19 and MILLISECOND 753);
-- TIMESTAMPDIFF and TIMESTAMPADD of TIMEs
CREATE TABLE t (k INT, dt DATE, tm TIME, tm3 TIME(3))
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, EXTRACT(HOUR FROM tm) AS h, EXTRACT(MINUTE FROM tm3) AS mi, EXTRACT(SECOND FROM tm3) AS s,
  EXTRACT(MILLISECOND FROM tm3) AS ms, HOUR(tm3) AS h2, EXTRACT(HOUR FROM dt) AS dh, EXTRACT(MINUTE FROM dt) AS dmi,
  EXTRACT(SECOND FROM dt) AS ds, EXTRACT(MILLISECOND FROM dt) AS dms, EXTRACT(EPOCH FROM dt) AS de,
  TIMESTAMPDIFF(MINUTE, tm, TIME '23:00:00') AS diff_min, TIMESTAMPDIFF(SECOND, tm3, tm) AS diff_s,
  TIMESTAMPDIFF(HOUR, TIME '23:00:00', tm) AS diff_h, TIMESTAMPADD(HOUR, 25, tm) AS add_h,
  TIMESTAMPADD(MINUTE, -1, tm3) AS add_min
FROM t;
