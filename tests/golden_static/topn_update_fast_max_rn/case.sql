-- topn_update_fast_max_rn: Top-2 per s by MAX(v) over GROUP BY s, k, with the row number (MAX only increases
-- over an insert-only input, so Flink ranks update-fast; NULL maxima sort last)
-- changelog key: s
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT s, k, mv, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY s ORDER BY mv DESC) AS rn FROM (SELECT s, k, MAX(v) AS mv FROM events GROUP BY s, k)) WHERE rn <= 2;
