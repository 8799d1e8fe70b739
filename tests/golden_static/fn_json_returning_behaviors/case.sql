-- fn_json_returning_behaviors: JSON_VALUE RETURNING INT/DOUBLE/BOOLEAN/VARCHAR(n); DEFAULT/NULL ON EMPTY/ON ERROR as
-- Flink 2.3 runs them (a path that leads nowhere, an object or array and a malformed document take ON ERROR; ON EMPTY
-- never applies); JSON_QUERY wrappers (WITH, CONDITIONAL), EMPTY ARRAY/OBJECT ON ERROR, wildcards, RETURNING
-- ARRAY<STRING>; JSON_EXISTS of a JSON null is FALSE, TRUE/UNKNOWN ON ERROR, strict paths
CREATE TABLE t (id INT, j STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, JSON_VALUE(j, '$.i' RETURNING INT) AS i_int, JSON_VALUE(j, '$.f' RETURNING DOUBLE) AS f_dbl,
  JSON_VALUE(j, '$.b' RETURNING BOOLEAN) AS b_bool, JSON_VALUE(j, '$.i' RETURNING VARCHAR(3)) AS i_vc,
  JSON_VALUE(j, '$.e') AS e_str, JSON_VALUE(j, '$.zz' DEFAULT 'x' ON EMPTY) AS zz_empty,
  JSON_VALUE(j, '$.zz' DEFAULT 'x' ON EMPTY DEFAULT 'y' ON ERROR) AS zz_both, JSON_VALUE(j, '$.n' DEFAULT 'x' ON ERROR) AS n_null,
  JSON_VALUE(j, '$.c' DEFAULT 'arr' ON ERROR) AS c_err, JSON_VALUE(j, '$.o' NULL ON EMPTY DEFAULT 'obj' ON ERROR) AS o_err,
  JSON_VALUE(j, 'strict $.zz' DEFAULT 'st' ON ERROR) AS strict_missing, JSON_VALUE(j, '$.c[5]' DEFAULT 'out' ON ERROR) AS idx_out,
  JSON_VALUE(j, '$.c[0]') AS idx0, JSON_VALUE(j, '$.zz' RETURNING INT DEFAULT -1 ON ERROR) AS zz_int,
  JSON_QUERY(j, '$.c') AS q_c, JSON_QUERY(j, '$.i') AS q_scalar, JSON_QUERY(j, '$.i' WITH WRAPPER) AS q_wrap,
  JSON_QUERY(j, '$.c' WITH CONDITIONAL WRAPPER) AS q_cond, JSON_QUERY(j, '$.i' WITH CONDITIONAL ARRAY WRAPPER) AS q_cond_sc,
  JSON_QUERY(j, '$.i' EMPTY ARRAY ON ERROR) AS q_scalar_err, JSON_QUERY(j, '$.zz' EMPTY OBJECT ON ERROR) AS q_zz_err,
  JSON_QUERY(j, '$.zz' EMPTY OBJECT ON EMPTY) AS q_zz_empty, JSON_QUERY(j, '$.n' WITH WRAPPER) AS q_null_wrap,
  JSON_QUERY(j, '$.c[*]') AS q_star, JSON_QUERY(j, '$.c[*]' WITH WRAPPER) AS q_star_wrap, JSON_QUERY(j, '$.o') AS q_obj,
  JSON_QUERY(j, '$.c' RETURNING ARRAY<STRING>) AS q_arr, JSON_EXISTS(j, '$.n') AS ex_null, JSON_EXISTS(j, '$.zz') AS ex_missing,
  JSON_EXISTS(j, 'strict $.zz' TRUE ON ERROR) AS ex_strict_true, JSON_EXISTS(j, 'strict $.zz') AS ex_strict,
  JSON_EXISTS(j, '$.i' UNKNOWN ON ERROR) AS ex_unknown, JSON_EXISTS(j, '$.c[1]') AS ex_idx
FROM t;
