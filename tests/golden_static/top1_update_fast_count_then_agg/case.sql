-- top1_update_fast_count_then_agg: the id with the most rows per k (Top-1 over a COUNT, update-fast: a row
-- replaces the kept one only when its count is higher), counted per id downstream
-- changelog key: id
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT id, COUNT(*) AS n FROM (SELECT k, id, c FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn FROM (SELECT k, id, COUNT(*) AS c FROM events GROUP BY k, id)) WHERE rn <= 1) GROUP BY id;
