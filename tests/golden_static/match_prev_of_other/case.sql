CREATE TABLE ticker (symbol STRING, price INT, volume INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/ticker.json','format'='json');
SELECT * FROM ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY ts MEASURES A.price AS a_p, B.price AS b_p, C.price AS c_p PATTERN (A B C) DEFINE C AS C.price > PREV(B.price)) AS T;
