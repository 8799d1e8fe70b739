-- in_subquery_correlated_in_select: `a [NOT] IN (SELECT x FROM t2 WHERE t2.y = t1.b)` as a value, correlated by an
-- equality (qualified, or naming the outer column unqualified): NULL for a NULL a even where t2 has no row for
-- b (then a non-NULL a is FALSE), NULL when a is not found among values with a NULL; a NULL b finds no rows
CREATE TABLE t1 (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t1.json', 'format' = 'json');
CREATE TABLE t2 (x INT, y INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t2.json', 'format' = 'json');
SELECT a, b, a IN (SELECT x FROM t2 WHERE t2.y = t1.b) AS i, a NOT IN (SELECT x FROM t2 WHERE y = b) AS ni,
  a + 1 IN (SELECT x FROM t2 WHERE t2.y = t1.b AND x > 1)
FROM t1;
