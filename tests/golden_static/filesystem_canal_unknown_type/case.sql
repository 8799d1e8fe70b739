-- filesystem_canal_unknown_type: a Canal event of an unknown type fails the job, naming the message
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'canal-json');

SELECT * FROM t;
