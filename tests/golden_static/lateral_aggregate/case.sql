-- lateral_aggregate: a LATERAL subquery of aggregate calls correlated by an equality has one row per outer row, joined or not (NULL sums, COUNT 0 where the key has no rows)
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT d.k, d.w, x.s, x.c, x.m FROM dims d, LATERAL (SELECT SUM(v) AS s, COUNT(*) AS c, MAX(id) AS m FROM events e WHERE e.k = d.k AND e.v > 2) x;
