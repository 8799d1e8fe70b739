-- order_by_hidden_expression_limit: ORDER BY an expression of a column not selected, then a column not selected, LIMIT
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k FROM L ORDER BY v * -1, a LIMIT 3;
