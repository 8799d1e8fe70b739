-- hop_legacy_uneven: legacy GROUP BY HOP whose size (50 s) is not a multiple of the slide (20 s): 2 or 3 windows per row
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, HOP_START(ts, INTERVAL '20' SECOND, INTERVAL '50' SECOND) AS hs, HOP_END(ts, INTERVAL '20' SECOND, INTERVAL '50' SECOND) AS he, COUNT(*) AS cnt, SUM(v) AS sv FROM events GROUP BY HOP(ts, INTERVAL '20' SECOND, INTERVAL '50' SECOND), k;
