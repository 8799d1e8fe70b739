-- group_unread_calls_trimmed: the inner GROUP BY's LAST_VALUE(v) is read by no one, so (as Flink trims it) an id whose
-- v changes but whose k stays the same sends no -U/+U pair, and the outer count per k does not go down and up again
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, COUNT(*) AS c, MAX(id) AS max_id FROM (SELECT id, LAST_VALUE(k) AS k, LAST_VALUE(v) AS v, LAST_VALUE(s) AS s FROM events GROUP BY id) GROUP BY k;
