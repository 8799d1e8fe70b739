-- fn_numeric_cast_edges: ROUND/CEIL of a DECIMAL that carries into a new digit (99999999.99 -> 100000000), the
-- DECIMAL(p, 0) of FLOOR/CEIL, ROUND/TRUNCATE of integers with negative digits wrapping as Java's long and byte do,
-- DOUBLE to integer casts that saturate (and NaN is 0), NaN as text, BOOLEAN to DECIMAL, FLOAT values, ELEMENT
CREATE TABLE t (a DECIMAL(10, 2), ti TINYINT, bi BIGINT, d DOUBLE, s STRING, bo BOOLEAN)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT ROUND(a, 0) AS r0, ROUND(a, -1) AS r_neg1, ROUND(a, 1) AS r1, CEIL(a) AS ce, FLOOR(a) AS fl, TRUNCATE(a, 1) AS t1,
  ROUND(ti, -1) AS rti, TRUNCATE(bi, -2) AS tbi, ROUND(bi, -1) AS rbi, CAST(d * 1e10 AS INT) AS d_int, CAST(d AS BIGINT) AS d_big,
  CAST(d * 100 AS TINYINT) AS d_tiny, CAST(d * 1e5 AS SMALLINT) AS d_small, CAST(CAST(s AS DOUBLE) AS INT) AS s_int,
  CAST(CAST(s AS DOUBLE) AS STRING) AS s_str, CAST(bo AS DECIMAL(3, 1)) AS bo_dec, CAST(bo AS INT) AS bo_int,
  CAST(d AS FLOAT) AS d_flt, CAST(a AS FLOAT) AS a_flt, ELEMENT(ARRAY[ti]) AS elem
FROM t;
