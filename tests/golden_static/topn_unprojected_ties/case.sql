-- topn_unprojected_ties: Top-4 with ties at the boundary, row number not read
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM scores) WHERE rn <= 4;
