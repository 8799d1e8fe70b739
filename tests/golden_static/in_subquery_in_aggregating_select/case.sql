-- in_subquery_in_aggregating_select: `x IN (SELECT ..)` as a value next to aggregates, its x a group key or an
-- aggregate: the aggregation first, then the IN over its rows (Flink's SubQueryRemoveRule), three-valued as
-- without aggregation; an unnamed one keeps its EXPR$ name
CREATE TABLE t (a INT, b INT, k STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
CREATE TABLE u (x INT, y INT, s STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/u.json', 'format' = 'json');
SELECT k, COUNT(*) AS c, k IN (SELECT s FROM u) AS ks, SUM(b) IN (SELECT y FROM u WHERE x > 1) AS sb,
  MAX(a) NOT IN (SELECT x FROM u) AND COUNT(*) > 1, COUNT(*) IN (SELECT x FROM u) AS cnt
FROM t WHERE a < 10 GROUP BY k HAVING COUNT(*) >= 1;
