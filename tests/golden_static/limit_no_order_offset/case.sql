-- limit_no_order_offset: LIMIT .. OFFSET without ORDER BY: the rows after the first n in arrival order
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, v FROM L LIMIT 2 OFFSET 1;
