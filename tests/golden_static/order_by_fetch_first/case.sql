-- order_by_fetch_first: ORDER BY .. FETCH FIRST n ROWS ONLY, as LIMIT n (NULLs first ascending)
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, v FROM L ORDER BY v FETCH FIRST 2 ROWS ONLY;
