-- dedup_first_rowtime_no_delay: keep-first dedup on rowtime with a zero watermark delay: every earlier row after the first is late
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts ASC) AS rn FROM events) WHERE rn = 1;
