-- hop_legacy_slide_over_size: legacy GROUP BY HOP with a slide (30 s) longer than the size (20 s): rows between windows belong to none
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, HOP_START(ts, INTERVAL '30' SECOND, INTERVAL '20' SECOND) AS hs, COUNT(*) AS cnt FROM events GROUP BY HOP(ts, INTERVAL '30' SECOND, INTERVAL '20' SECOND), k;
