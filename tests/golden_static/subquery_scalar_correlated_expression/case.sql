-- subquery_scalar_correlated_expression: correlated scalar subqueries with an aliased table, an extra uncorrelated condition and an expression of the aggregate (COUNT(*) + 1 is 1 for a key without rows)
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT x.k, (SELECT COUNT(*) + 1 FROM R r WHERE r.k = x.k AND r.w > 50) AS c, (SELECT SUM(w) FROM R WHERE R.k = x.k) AS s FROM L x;
