-- limit_no_order: LIMIT without ORDER BY: the first rows in arrival order
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT * FROM L LIMIT 2;
