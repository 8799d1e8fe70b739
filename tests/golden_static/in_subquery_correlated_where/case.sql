-- in_subquery_correlated_where: `a IN (SELECT x FROM t2 WHERE t2.y = t1.b)` in WHERE, a semi join on (a, b) =
-- (x, y) as in Flink: insert-only, a NULL a or b never passes
CREATE TABLE t1 (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t1.json', 'format' = 'json');
CREATE TABLE t2 (x INT, y INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t2.json', 'format' = 'json');
SELECT a, b FROM t1 WHERE a IN (SELECT x FROM t2 WHERE t2.y = t1.b AND x < 7) AND b > 0;
