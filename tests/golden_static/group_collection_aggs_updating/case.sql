-- group_collection_aggs_updating: ARRAY_AGG, COLLECT, JSON_ARRAYAGG, PERCENTILE and LISTAGG(DISTINCT) in a GROUP BY whose input retracts (the latest row per id)
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, ARRAY_AGG(v) AS arr, ARRAY_AGG(DISTINCT v) AS arr_d, COLLECT(v) AS c, JSON_ARRAYAGG(v) AS ja, PERCENTILE(d, 0.5) AS p50, LISTAGG(DISTINCT CAST(v AS STRING)) AS la_d
FROM (SELECT id, LAST_VALUE(k) AS k, LAST_VALUE(v) AS v, LAST_VALUE(d) AS d FROM events GROUP BY id) GROUP BY k;
