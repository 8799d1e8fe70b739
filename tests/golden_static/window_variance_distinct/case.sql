-- window_variance_distinct: STDDEV/VARIANCE family with DISTINCT in a window aggregation (repeated values count once)
CREATE TABLE t (k STRING, x DOUBLE, i INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT window_start, k, STDDEV_POP(DISTINCT x) AS sd_pop_x, VAR_SAMP(DISTINCT x) AS var_samp_x,
  VAR_POP(DISTINCT i) AS var_pop_i, STDDEV_SAMP(DISTINCT i) AS sd_samp_i, VAR_POP(x) AS var_pop_all
FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, k;
