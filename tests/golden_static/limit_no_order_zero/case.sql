-- limit_no_order_zero: LIMIT 0 without ORDER BY: no rows
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k FROM L LIMIT 0;
