-- subquery_exists_as_value: EXISTS as a value: in SELECT (correlated and not), and in WHERE under OR, NOT and CASE
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT id, k, v,
       EXISTS (SELECT 1 FROM dims d WHERE d.k = e.k AND d.w > 5) AS has_dim,
       EXISTS (SELECT 1 FROM dims WHERE w > 35) AS any_big
FROM events e
WHERE v > 8
   OR NOT EXISTS (SELECT 1 FROM dims d WHERE d.k = e.k)
   OR CASE WHEN EXISTS (SELECT * FROM dims d WHERE d.k = e.k AND d.w < 20) THEN v < 5 ELSE FALSE END
   OR EXISTS (SELECT k FROM dims WHERE w > 1000);
