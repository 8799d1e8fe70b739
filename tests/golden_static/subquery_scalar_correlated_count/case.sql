-- subquery_scalar_correlated_count: a correlated COUNT(*) scalar subquery is 0 for an outer row whose key has no rows (BIGINT, nullable as Flink types it)
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, a, (SELECT COUNT(*) FROM R WHERE R.k = L.k) AS c FROM L;
