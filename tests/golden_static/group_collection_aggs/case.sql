-- group_collection_aggs: ARRAY_AGG, JSON_ARRAYAGG, JSON_OBJECTAGG, LISTAGG(DISTINCT) and PERCENTILE in a plain GROUP BY (insert-only input)
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, ARRAY_AGG(v) AS arr, ARRAY_AGG(DISTINCT v) AS arr_d, JSON_ARRAYAGG(v) AS ja, JSON_OBJECTAGG(KEY CAST(ts AS STRING) VALUE v) AS jo,
  LISTAGG(DISTINCT CAST(v AS STRING)) AS la_d, PERCENTILE(v, 0.5) AS p50, PERCENTILE(d, 0.25) AS p25
FROM events GROUP BY k;
