-- limit_no_order_offset_over_updating: LIMIT .. OFFSET without ORDER BY over a GROUP BY's updating result (only the last row is updated: see limit_no_order_over_updating)
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, COUNT(*) AS c FROM L GROUP BY k LIMIT 2 OFFSET 1;
