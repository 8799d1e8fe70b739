-- fn_decimal_rounding_rows: Java's HALF_UP (away from zero) for negative ties in ROUND and CAST to DECIMAL;
-- TRUNCATE, SIGN and MOD of DECIMALs and their types; integers and DECIMALs cast to a DECIMAL too narrow for them
-- (NULL); the ROW(..) constructor, a ROW cast field by field in order, ROW defaults in COALESCE/CASE, ROW equality
CREATE TABLE t (id INT, i INT, bi BIGINT, si SMALLINT, d DOUBLE, `dec` DECIMAL(10, 2), dec5 DECIMAL(12, 5), s STRING,
  r ROW<a INT, b STRING>)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, ROUND(`dec`, 1) AS round1, ROUND(`dec` * -1, 1) AS round_neg, ROUND(dec5, 3) AS round3,
  ROUND(i * -5, -1) AS round_int, CAST(`dec` * -1 AS DECIMAL(10, 1)) AS cast_neg, `dec` * -0.5 AS times_half,
  TRUNCATE(dec5, 2) AS trunc2, TRUNCATE(`dec` * -1, 1) AS trunc_neg, TRUNCATE(dec5) AS trunc0,
  SIGN(`dec`) AS sign_dec, SIGN(dec5) AS sign_dec5, `dec` % 3 AS mod3, MOD(bi, CAST(4 AS DECIMAL(3, 1))) AS mod_dec,
  CAST(i AS DECIMAL(3, 1)) AS narrow_int, CAST(bi AS DECIMAL(5, 0)) AS narrow_big, CAST(si AS DECIMAL(1, 0)) AS narrow_small,
  CAST(`dec` AS DECIMAL(3, 2)) AS narrow_dec, CAST(dec5 AS DECIMAL(4, 1)) AS narrow_dec5,
  ROW(i, s) AS row_ctor, COALESCE(r, ROW(0, 'z')) AS row_default, r = ROW(1, 'x') AS row_eq,
  r <> ROW(0, 'z') AS row_ne, CAST(r AS ROW<x BIGINT, y STRING>) AS row_renamed,
  CAST(r AS ROW<x STRING, y STRING>) AS row_text, CASE WHEN i > 0 THEN r ELSE ROW(i, s) END AS row_case
FROM t;
