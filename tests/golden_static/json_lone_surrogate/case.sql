-- json_lone_surrogate: a \ud83d escape without its pair is one character
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');

SELECT id, CHAR_LENGTH(a) AS n FROM t;
