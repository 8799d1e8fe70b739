-- topn_unprojected_over_updating: Top-2 over an updating input with the row number not read: -D/+I per row
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT k, total FROM (SELECT k, total, ROW_NUMBER() OVER (ORDER BY total DESC) AS rn FROM (SELECT k, SUM(v) AS total FROM scores GROUP BY k)) WHERE rn <= 2;
