-- topn_unprojected: Top-3 (rn < 4) with the row number not read: -D of the row pushed out, then +I, as Flink
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM scores) WHERE rn < 4;
