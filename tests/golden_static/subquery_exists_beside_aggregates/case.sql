-- subquery_exists_beside_aggregates: EXISTS next to aggregates, correlated with a group key: a value over the aggregation's rows, the key now their column
CREATE TABLE events (k STRING, v INT, id INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT k, EXISTS (SELECT 1 FROM dims d WHERE d.k = e.k AND d.w > 12) AS big_dim, COUNT(*) AS c
FROM events e GROUP BY k;
