-- subquery_in_correlated_aggregate: x IN an aggregate correlated by equalities (the greatest value per key, an expression of an aggregate with a filter of its own): the aggregate grouped by the correlation keys, a semi join on keys and value, updated as the aggregate changes
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT id, k, v FROM events e
WHERE v IN (SELECT MAX(v) FROM events e2 WHERE e2.k = e.k)
   OR v IN (SELECT MIN(w) / 5 + 1 FROM dims d WHERE d.k = e.k AND d.w > 5);
