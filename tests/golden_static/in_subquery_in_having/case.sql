-- in_subquery_in_having: [NOT] IN subqueries in HAVING filter the aggregation's rows (semi/anti joins, as Flink
-- plans them); the NOT IN's subquery has no NULL
CREATE TABLE t1 (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t1.json', 'format' = 'json');
CREATE TABLE t2 (x INT, y INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t2.json', 'format' = 'json');
SELECT b, COUNT(*) AS c, SUM(a) AS s FROM t1 GROUP BY b
HAVING COUNT(*) IN (SELECT CAST(y AS BIGINT) FROM t2) AND SUM(a) NOT IN (SELECT x FROM t2 WHERE x > 4);
