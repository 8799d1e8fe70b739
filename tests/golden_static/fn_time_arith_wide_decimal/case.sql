-- fn_time_arith_wide_decimal: a TIME plus or minus a DAY TO SECOND interval wraps around midnight; a product of
-- DECIMALs whose operands have more than 38 digits between them; REPLACE of the empty string (before each character)
CREATE TABLE t (id INT, i INT, `dec` DECIMAL(10, 2), dec5 DECIMAL(12, 5), s STRING, tm TIME)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, tm + INTERVAL '2' HOUR AS plus2h, tm - INTERVAL '30' MINUTE AS minus30m, tm + INTERVAL '1' DAY AS plus1d,
  INTERVAL '90' SECOND + tm AS plus90s, tm - INTERVAL '1' SECOND * i AS minus_i,
  CAST(`dec` AS DECIMAL(38, 10)) * CAST(dec5 AS DECIMAL(38, 10)) AS wide, CAST(`dec` AS DECIMAL(30, 2)) * CAST(dec5 AS DECIMAL(20, 5)) AS wide2,
  CAST(99999999.99 AS DECIMAL(10, 2)) * 100 AS scaled,
  REPLACE(s, '', 'x') AS around, REPLACE(s, 'l', '') AS removed
FROM t;
