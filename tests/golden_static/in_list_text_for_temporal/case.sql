-- in_list_text_for_temporal: text in an IN list beside a TIMESTAMP, DATE or TIME is read as that type, as in a
-- comparison with it (text mixed with a DATE in one list is refused)
CREATE TABLE t (k INT, ts TIMESTAMP(3), dt DATE, tm TIME)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, ts IN ('2024-01-31 10:20:30.123', '2000-03-31 00:00:00') AS ts_in, dt IN ('2023-12-31', '2024-2-29') AS dt_in,
  tm NOT IN ('10:20:30', '23:59:59') AS tm_not_in
FROM t WHERE ts IN ('2024-01-31 10:20:30.123', '2024-02-29 23:59:59.999') OR dt IN ('2023-12-31') OR ts IS NULL;
