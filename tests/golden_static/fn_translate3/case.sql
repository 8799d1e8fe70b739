-- fn_translate3: TRANSLATE3, the name Flink's SHOW FUNCTIONS lists for TRANSLATE, translates the same way
CREATE TABLE t (id INT, s STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, TRANSLATE3(s, 'lo', 'L') AS t3, TRANSLATE(s, 'lo', 'L') AS t, TRANSLATE3(s, 'an', 'AN') AS t3_an FROM t;
