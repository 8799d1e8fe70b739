-- topn_update_fast_counts_rn: the update-fast Top-N of topn_update_fast_counts with the row number selected: each
-- rank position whose row changes gets -U/+U, an update shifts the positions between its old and new rank
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, id, c, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn FROM (SELECT k, id, COUNT(*) AS c FROM events GROUP BY k, id)) WHERE rn <= 3;
