-- limit_no_order_over_updating: LIMIT without ORDER BY over a GROUP BY's updating result
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, COUNT(*) AS c FROM L GROUP BY k LIMIT 2;
