-- subquery_scalar_correlated: a scalar subquery correlated by an equality: the aggregate of the rows of the outer row's key (NULL for none, and for a NULL key)
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, a, (SELECT MAX(w) FROM R WHERE R.k = L.k) AS mw FROM L;
