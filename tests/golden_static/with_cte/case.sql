-- with_cte: WITH queries, one reading another, with a column list
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
WITH big AS (SELECT k, v FROM events WHERE v > 2), totals (key, total) AS (SELECT k, SUM(v) FROM big GROUP BY k) SELECT key, total * 10 AS t10 FROM totals;
