-- session_touching_legacy: legacy GROUP BY SESSION: rows exactly one gap apart share a session; late rows
CREATE TABLE clicks (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/clicks.json','format'='json');
SELECT k, SESSION_START(ts, INTERVAL '5' SECOND) AS ss, SESSION_END(ts, INTERVAL '5' SECOND) AS se, COUNT(*) AS cnt, SUM(v) AS sv FROM clicks GROUP BY SESSION(ts, INTERVAL '5' SECOND), k;
