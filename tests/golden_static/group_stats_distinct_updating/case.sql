-- group_stats_distinct_updating: STDDEV/VARIANCE and DISTINCT aggregates in a GROUP BY whose input retracts (the latest row per id)
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, STDDEV_POP(v) AS sp_v, VAR_SAMP(d) AS vs_d, SUM(DISTINCT v) AS sum_dv, AVG(DISTINCT v) AS avg_dv, MAX(DISTINCT v) AS max_dv, COUNT(DISTINCT v) AS cnt_dv, SUM(DISTINCT d) AS sum_dd
FROM (SELECT id, LAST_VALUE(k) AS k, LAST_VALUE(v) AS v, LAST_VALUE(d) AS d FROM events GROUP BY id) GROUP BY k;
