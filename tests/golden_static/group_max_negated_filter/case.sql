-- group_max_negated_filter: NOT (c >= 3) drops a row once its count reaches 3, so MAX over the counts takes retractions
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, MAX(c) AS max_c FROM (SELECT id, k, COUNT(*) AS c FROM events GROUP BY id, k) WHERE NOT (c >= 3) GROUP BY k;
