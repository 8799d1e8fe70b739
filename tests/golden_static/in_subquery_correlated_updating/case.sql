-- in_subquery_correlated_updating: a correlated IN over an updating subquery (a GROUP BY's counts): the answers
-- are updated as the counts change
CREATE TABLE t1 (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t1.json', 'format' = 'json');
CREATE TABLE t2 (x INT, y INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t2.json', 'format' = 'json');
SELECT a, b, a IN (SELECT c FROM (SELECT y, CAST(COUNT(*) AS INT) AS c FROM t2 GROUP BY y) g WHERE g.y = t1.b) AS i
FROM t1;
