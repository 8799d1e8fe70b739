-- group_stats_decimal_scale: STDDEV/VARIANCE of a DECIMAL are DECIMAL(38, max(6, scale)) as Flink types them (they
-- kept the argument's scale: 6.20 for 6.195000), and a zero of scale 8 prints as 0.00000000
CREATE TABLE t (id INT, k STRING, i INT, d DOUBLE, `dec` DECIMAL(10, 2), dec5 DECIMAL(12, 5), ts TIMESTAMP(3),
  ts6 TIMESTAMP(6), dt DATE, tm TIME)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, STDDEV_POP(`dec`) AS sd_pop, VAR_POP(dec5) AS var_pop5, STDDEV_SAMP(CAST(d AS DECIMAL(20, 8))) AS sd_samp8,
  VAR_POP(CAST(d AS DECIMAL(20, 8))) AS var_pop8, VAR_SAMP(`dec`) AS var_samp2, STDDEV_POP(CAST(i AS DECIMAL(5, 0))) AS sd_int
FROM t GROUP BY k;
