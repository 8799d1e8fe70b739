-- hop_uneven_window_dedup: window deduplication over a HOP whose size is not a multiple of the slide
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT window_start, window_end, k, v FROM (SELECT window_start, window_end, k, v, ts, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts) AS rn FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, INTERVAL '50' SECOND))) WHERE rn = 1;
