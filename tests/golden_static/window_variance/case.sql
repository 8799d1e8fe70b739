-- window_variance: STDDEV/VARIANCE family in a window aggregation over DOUBLE and INT arguments (integer arithmetic)
CREATE TABLE t (k STRING, x DOUBLE, i INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT window_start, k, STDDEV(x) AS sd, STDDEV_POP(i) AS sd_pop_i, STDDEV_SAMP(i) AS sd_samp_i, VARIANCE(i) AS var_i,
  VAR_POP(x) AS var_pop_x, VAR_SAMP(i) AS var_samp_i, VAR_POP(i) AS var_pop_i
FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, k;
