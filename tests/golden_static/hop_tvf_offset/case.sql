-- hop_tvf_offset: HOP TVF with an offset: window starts shift by the offset
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT window_start, window_end, COUNT(*) AS cnt, SUM(v) AS sv FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '20' SECOND, INTERVAL '60' SECOND, INTERVAL '5' SECOND)) GROUP BY window_start, window_end;
