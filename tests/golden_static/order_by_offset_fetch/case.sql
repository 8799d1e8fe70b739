-- order_by_offset_fetch: ORDER BY .. OFFSET n ROWS FETCH NEXT m ROWS ONLY: a Top-N of the row numbers n+1..n+m
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, v FROM L ORDER BY v DESC OFFSET 1 ROWS FETCH NEXT 2 ROWS ONLY;
