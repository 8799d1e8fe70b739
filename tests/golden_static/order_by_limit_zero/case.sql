-- order_by_limit_zero: LIMIT 0: no rows
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k FROM L ORDER BY v DESC LIMIT 0;
