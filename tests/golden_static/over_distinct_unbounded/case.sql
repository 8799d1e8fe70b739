-- over_distinct_unbounded: DISTINCT aggregates in OVER on the default frame (RANGE from UNBOUNDED PRECEDING; rows with equal timestamps share one frame)
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT id, k, v, SUM(DISTINCT v) OVER w AS s_d, COUNT(DISTINCT v) OVER w AS c_d, LISTAGG(DISTINCT CAST(v AS STRING)) OVER w AS la_d, SUM(v) OVER w AS s
FROM events WINDOW w AS (PARTITION BY k ORDER BY ts);
