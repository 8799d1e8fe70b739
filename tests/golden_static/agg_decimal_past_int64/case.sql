-- agg_decimal_past_int64: SUM, AVG, MIN and MAX of a DECIMAL whose unscaled values pass a 64-bit integer
-- (DECIMAL(38, 30): 2.5 is 25 followed by 29 zeros)
CREATE TABLE t (g STRING, de DECIMAL(10, 2))
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT g, SUM(CAST(de AS DECIMAL(38, 30))) AS s30, AVG(CAST(de AS DECIMAL(38, 30))) AS a30,
  MIN(CAST(de AS DECIMAL(38, 20))) AS min20, MAX(CAST(de AS DECIMAL(38, 20))) AS max20,
  SUM(CAST(de AS DECIMAL(20, 2))) AS s20, AVG(CAST(de AS DECIMAL(25, 10))) AS a25
FROM t GROUP BY g;
