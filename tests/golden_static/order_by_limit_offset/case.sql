-- order_by_limit_offset: ORDER BY .. LIMIT m OFFSET n
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, v FROM L ORDER BY v ASC LIMIT 2 OFFSET 1;
