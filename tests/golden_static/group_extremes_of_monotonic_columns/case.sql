-- group_extremes_of_monotonic_columns: a MAX of a COUNT and a MIN of a MIN (columns that only increase / decrease,
-- also through a HAVING c >= 2) take no retraction in Flink (MAX, not MAX_RETRACT): while an id's count goes
-- from 3 to 4 (-U 3, +U 4) the maximum stays 3 instead of dropping to the next one; MIN(c) and MAX of a SUM retract
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, MAX(c) AS max_c, MIN(c) AS min_c, MIN(min_v) AS min_min_v, MAX(total) AS max_total
FROM (SELECT id, k, COUNT(*) AS c, MIN(v) AS min_v, SUM(v) AS total FROM events GROUP BY id, k HAVING COUNT(*) >= 2) GROUP BY k;
