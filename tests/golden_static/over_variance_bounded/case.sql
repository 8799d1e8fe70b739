-- over_variance_bounded: VAR_SAMP/STDDEV_SAMP/STDDEV_POP in a bounded RANGE OVER frame (rows leave the frame)
CREATE TABLE t (k STRING, x DOUBLE, i INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, ts, VAR_SAMP(x) OVER w AS var_x, STDDEV_SAMP(i) OVER w AS sd_samp_i, STDDEV_POP(x) OVER w AS sd_pop_x
FROM t
WINDOW w AS (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '5' SECOND PRECEDING AND CURRENT ROW);
