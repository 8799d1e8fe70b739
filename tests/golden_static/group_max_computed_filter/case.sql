-- group_max_computed_filter: a filter computed from a count (c + 0 < 3) may drop a row it let through, so MAX over the counts takes retractions
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, MAX(c) AS max_c FROM (SELECT id, k, COUNT(*) AS c FROM events GROUP BY id, k) WHERE c + 0 < 3 GROUP BY k;
