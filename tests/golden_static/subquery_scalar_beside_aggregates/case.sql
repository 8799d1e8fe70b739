-- subquery_scalar_beside_aggregates: uncorrelated scalar subqueries next to aggregates and in HAVING are values over the aggregation's rows (joined with the subquery's one row, updated as either changes)
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT k, COUNT(*) AS c, (SELECT MAX(w) FROM dims) AS mw, SUM(v) * 100 / (SELECT SUM(w) FROM dims) AS pct
FROM events GROUP BY k HAVING SUM(v) > (SELECT AVG(w) FROM dims) / 4;
