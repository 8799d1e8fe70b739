-- topn_update_fast_counts: Top-2 per k by a COUNT over GROUP BY k, id (a unique key holding the partition, a sort
-- key that only increases): Flink's update-fast Top-N moves an id's row in place (-U/+U) and forgets a row that
-- leaves the top 2, so it comes back as +I
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, id, c FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn FROM (SELECT k, id, COUNT(*) AS c FROM events GROUP BY k, id)) WHERE rn <= 2;
