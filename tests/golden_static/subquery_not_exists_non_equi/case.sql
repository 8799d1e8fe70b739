-- subquery_not_exists_non_equi: NOT EXISTS correlated by an equality and a comparison with the outer row (an anti join on the key with a condition)
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, a FROM L WHERE NOT EXISTS (SELECT 1 FROM R WHERE R.k = L.k AND R.w > L.v);
