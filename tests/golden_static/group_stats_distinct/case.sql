-- group_stats_distinct: STDDEV/VARIANCE family and DISTINCT SUM/AVG/MIN/MAX/COUNT in a plain (updating) GROUP BY over an insert-only input
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, STDDEV_POP(v) AS sp_v, STDDEV_SAMP(d) AS ss_d, VAR_POP(d) AS vp_d, VAR_SAMP(v) AS vs_v, STDDEV(d) AS sd_d, VARIANCE(v) AS var_v,
  SUM(DISTINCT v) AS sum_dv, AVG(DISTINCT v) AS avg_dv, MAX(DISTINCT d) AS max_dd, MIN(DISTINCT v) AS min_dv, COUNT(DISTINCT d) AS cnt_dd, AVG(DISTINCT d) AS avg_dd
FROM events GROUP BY k;
