-- over_distinct_rows: DISTINCT aggregates in OVER on a bounded ROWS frame (the distinct values of the frame's rows)
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT id, k, v, SUM(DISTINCT v) OVER w AS s_d, COUNT(DISTINCT v) OVER w AS c_d, AVG(DISTINCT v) OVER w AS a_d, COLLECT(DISTINCT v) OVER w AS c_dv, MAX(DISTINCT d) OVER w AS m_d
FROM events WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);
