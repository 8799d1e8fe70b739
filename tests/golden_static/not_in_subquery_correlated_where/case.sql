-- not_in_subquery_correlated_where: `a NOT IN (SELECT x FROM t2 WHERE y = b)` in WHERE: a row passes where t2 has
-- no row for its b (even with a NULL a, unlike the value in SELECT), not where a is NULL or its b's values hold a
-- NULL
CREATE TABLE t1 (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t1.json', 'format' = 'json');
CREATE TABLE t2 (x INT, y INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t2.json', 'format' = 'json');
SELECT a, b FROM t1 WHERE a NOT IN (SELECT x FROM t2 WHERE y = b);
