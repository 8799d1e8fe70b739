-- cast_decimal_precision_above_38: a DECIMAL precision above 38 is 38, as Flink's type factory makes it, in a
-- table's column and in CAST (DECIMAL(40, 2) is DECIMAL(38, 2)); a value past the clamped type is NULL
CREATE TABLE t (a INT, d DOUBLE, m DECIMAL(40, 2))
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT a, CAST(d AS DECIMAL(40, 2)) AS d2, CAST(a AS DECIMAL(39)) AS a0, TYPEOF(CAST(d AS DECIMAL(40, 2))) AS ty,
  TYPEOF(m) AS mty, m, m * 2 AS m2, CAST(d AS DECIMAL(40, 38)) AS past
FROM t;
