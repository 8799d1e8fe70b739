-- case_float_then_double: CASE and IF whose first branch is a FLOAT and a later one a DOUBLE are FLOAT (the
-- DOUBLE rounded to a FLOAT), a DOUBLE met first gives DOUBLE; COALESCE of the two is DOUBLE either way
CREATE TABLE t (k INT, f FLOAT, d DOUBLE, i INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, CASE WHEN k > 2 THEN f ELSE d END AS case_fd, CASE WHEN k > 2 THEN d ELSE f END AS case_df,
  IF(k = 1, f, d) AS if_fd, IF(k = 1, d, f) AS if_df, CASE WHEN k = 1 THEN f WHEN k = 2 THEN i ELSE d END AS case_fid,
  IF(k > 2, f, i) AS if_fi, COALESCE(f, d) AS coalesce_fd
FROM t;
