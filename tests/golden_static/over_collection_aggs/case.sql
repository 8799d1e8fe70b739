-- over_collection_aggs: ARRAY_AGG, COLLECT, LISTAGG and PERCENTILE as OVER aggregates on a bounded ROWS frame
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT id, k, v, ARRAY_AGG(v) OVER w AS arr, COLLECT(v) OVER w AS c, LISTAGG(CAST(v AS STRING), '/') OVER w AS la, PERCENTILE(v, 0.5) OVER w AS p50
FROM events WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);
