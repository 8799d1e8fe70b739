-- order_by_qualified_columns_limit: ORDER BY table-qualified columns (one not selected) LIMIT
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT x.a FROM L AS x ORDER BY x.k DESC, x.v LIMIT 2;
