-- if_nullable_condition: IF is nullable where its condition is, though both branches are NOT NULL; CASE with the
-- same condition is NOT NULL
CREATE TABLE t (k INT, kn INT NOT NULL, b BOOLEAN)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT IF(k > 2, 'a', 'bcd') AS if_text, IF(kn > 2, 'a', 'bcd') AS if_text_nn, IF(b, 1, 2) AS if_bool,
  IF(kn > 2, 1, 2) AS if_nn, CASE WHEN k > 2 THEN 1 ELSE 2 END AS case_int, IF(k IS NULL, kn, 2) AS if_is_null
FROM t;
