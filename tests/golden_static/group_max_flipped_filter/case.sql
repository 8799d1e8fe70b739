-- group_max_flipped_filter: 3 > c drops a row once its count reaches 3, as c < 3 does, so MAX over the counts takes retractions
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, MAX(c) AS max_c FROM (SELECT id, k, COUNT(*) AS c FROM events GROUP BY id, k) WHERE 3 > c GROUP BY k;
