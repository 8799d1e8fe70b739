-- group_collect_multiset: COLLECT (a MULTISET: value -> count) in a plain GROUP BY
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, COLLECT(v) AS c FROM events GROUP BY k;
