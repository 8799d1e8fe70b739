-- topn_over_updating: Top-2 over an updating input with the row number read: -U/+U per position
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT k, total, rn FROM (SELECT k, total, ROW_NUMBER() OVER (ORDER BY total DESC) AS rn FROM (SELECT k, SUM(v) AS total FROM scores GROUP BY k)) WHERE rn <= 2;
