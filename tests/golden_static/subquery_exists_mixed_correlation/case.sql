-- subquery_exists_mixed_correlation: EXISTS correlated by an equality and a comparison, with an uncorrelated condition on the subquery
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, v FROM L WHERE EXISTS (SELECT 1 FROM R WHERE R.k = L.k AND R.w < L.v * 10 AND R.b <> 'zz');
