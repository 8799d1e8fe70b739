-- lateral_aggregate_left: LEFT JOIN LATERAL of aggregate calls ON TRUE: every outer row, with NULLs (COUNT too) where its key is NULL
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT d.k, d.w, x.s, x.c, x.m FROM dims d LEFT JOIN LATERAL (SELECT SUM(v) AS s, COUNT(*) AS c, MAX(id) AS m FROM events e WHERE e.k = d.k AND e.v > 2) x ON TRUE;
