-- topn_unprojected_global: global Top-3 with the row number not read
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (ORDER BY v DESC, k) AS rn FROM scores) WHERE rn <= 3;
