-- over_variance: STDDEV/STDDEV_POP/STDDEV_SAMP/VARIANCE/VAR_POP/VAR_SAMP in OVER (unbounded ROWS frame) over DOUBLE and
-- INT arguments (integer arithmetic: VAR_SAMP of 1 and 2 is 1)
CREATE TABLE t (k STRING, x DOUBLE, i INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, ts,
  STDDEV(x) OVER w AS sd, STDDEV_POP(x) OVER w AS sd_pop, STDDEV_SAMP(i) OVER w AS sd_samp_i, VARIANCE(x) OVER w AS var_x,
  VAR_POP(i) OVER w AS var_pop_i, VAR_SAMP(i) OVER w AS var_samp_i, STDDEV_POP(i) OVER w AS sd_pop_i
FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);
