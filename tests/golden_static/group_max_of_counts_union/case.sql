-- group_max_of_counts_union: the counts of two GROUP BYs, UNION ALL'ed, still only increase (Flink's monotonicity of a
-- union whose inputs agree), so their MAX takes no retraction: it stays while a count goes from 3 to 4
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, MAX(c) AS mc FROM (SELECT id, k, COUNT(*) AS c FROM events GROUP BY id, k UNION ALL SELECT id, k, COUNT(*) AS c FROM events WHERE v > 0 GROUP BY id, k) GROUP BY k;
