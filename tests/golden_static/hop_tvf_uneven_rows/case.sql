-- hop_tvf_uneven_rows: HOP TVF rows with a size that is not a multiple of the slide (Flink rejects only aggregating them)
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v, window_start, window_end FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, INTERVAL '50' SECOND));
