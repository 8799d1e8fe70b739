-- in_subquery_in_select: `x [NOT] IN (SELECT ..)` as a value in SELECT, with SQL's three-valued answer: NULL for a
-- NULL x, NULL when x is not found among values that hold a NULL; a UNION ALL of two SELECTs as the subquery
CREATE TABLE t (id INT, s STRING, n STRING, i INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, i IN (SELECT i FROM t WHERE id < 3) AS inn, s IN (SELECT s FROM t WHERE id = 1) AS ins,
  i + 1 NOT IN (SELECT i FROM t WHERE id >= 3) AS nin,
  i IN (SELECT i FROM t WHERE id < 2 UNION ALL SELECT id FROM t WHERE id = 3) AS uni
FROM t;
