-- subquery_scalar_correlated_comparison: scalar subqueries correlated by comparisons (and an equality): the outer columns they read come from the outer FROM's distinct values, joined under the comparisons, grouped and LEFT JOINed back; a NULL outer value gets COUNT 0 and NULL sums
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT id, k, v,
       (SELECT COUNT(*) FROM events e2 WHERE e2.v < e.v) AS smaller,
       (SELECT SUM(w) FROM dims d WHERE d.k = e.k AND d.w > e.v * 2) AS heavier
FROM events e
WHERE id >= (SELECT MAX(e3.id) FROM events e3 WHERE e3.v > e.v) OR v > 8;
