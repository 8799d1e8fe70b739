-- in_subquery_in_aggregate_call: IN subqueries inside aggregate calls are values of the rows aggregated (a NULL a
-- is neither IN nor NOT IN), next to an IN of a group key over the aggregation
CREATE TABLE t1 (a INT, b INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t1.json', 'format' = 'json');
CREATE TABLE t2 (x INT, y INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t2.json', 'format' = 'json');
SELECT b, SUM(CASE WHEN t1.a IN (SELECT x FROM t2) THEN 1 ELSE 0 END) AS s,
  COUNT(CASE WHEN a NOT IN (SELECT x FROM t2 WHERE x > 1) THEN 1 END) AS n, b IN (SELECT y FROM t2) AS bin
FROM t1 GROUP BY b;
