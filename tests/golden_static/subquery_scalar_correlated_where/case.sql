-- subquery_scalar_correlated_where: a correlated scalar subquery compared in WHERE
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, a FROM L WHERE v > (SELECT MIN(w) FROM R WHERE R.k = L.k);
