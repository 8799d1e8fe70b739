-- join_outer_updating_row_kinds: a LEFT join whose right side updates (the latest row per id) and an IN over an updating
-- left side: Flink retracts a joined row of the right (not preserved) side with the right row's kind (-U, then the
-- NULL-padded row comes back +I), and a semi join passes its left rows' -U/+U on
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT e.id, e.v, u.s, u.k FROM events e LEFT JOIN (SELECT id, k, s FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY ts DESC) AS rn FROM events) WHERE rn = 1) u ON e.id = u.id AND e.v > 2
WHERE e.id IN (SELECT id FROM (SELECT id, LAST_VALUE(v) AS lv FROM events GROUP BY id) WHERE lv > 0);
