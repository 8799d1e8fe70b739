-- window_collection_aggs: ARRAY_AGG, JSON_ARRAYAGG, DISTINCT SUM/AVG, STDDEV and PERCENTILE in a TUMBLE window aggregation
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT window_start, k, ARRAY_AGG(v) AS arr, JSON_ARRAYAGG(v) AS ja, SUM(DISTINCT v) AS sum_dv, AVG(DISTINCT v) AS avg_dv, STDDEV_POP(v) AS sp_v,
  PERCENTILE(v, 0.5) AS p50, LISTAGG(DISTINCT CAST(v AS STRING), ';') AS la_d
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, k;
