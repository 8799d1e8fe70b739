-- filesystem_canal_ddl_event_fails: a Canal event of type ALTER fails the job (only CREATE is skipped)
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'canal-json');

SELECT * FROM t;
