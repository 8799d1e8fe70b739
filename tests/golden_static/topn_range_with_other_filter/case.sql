-- topn_range_with_other_filter: rank range bounds mixed with another filter: rn <= 4 AND v > 3 AND rn >= 2
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT k, v, rn FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM scores) WHERE rn <= 4 AND v > 3 AND rn >= 2;
