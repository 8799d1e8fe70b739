-- subquery_scalar_correlated_filter_count: a correlated COUNT .. FILTER (WHERE ..) scalar subquery: 0 for a key without rows
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, (SELECT COUNT(w) FILTER (WHERE w > 10) FROM R WHERE R.k = L.k) AS c FROM L;
