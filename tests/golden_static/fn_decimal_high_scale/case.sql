-- fn_decimal_high_scale: an integer cast to a DECIMAL whose scale leaves fewer than 19 integer digits (Arrow refused
-- the cast outright: 'Precision is not great enough'); a value with too many digits is NULL
CREATE TABLE t (i INT, bi BIGINT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT i, CAST(1 AS DECIMAL(38, 37)) * 10 AS lit_scaled, CAST(i AS DECIMAL(38, 35)) AS i_scaled, CAST(bi AS DECIMAL(38, 36)) AS bi_scaled,
  CAST(i AS DECIMAL(20, 18)) * 2 AS i_mul
FROM t;
