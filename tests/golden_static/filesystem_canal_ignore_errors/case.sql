-- filesystem_canal_ignore_errors: canal-json.ignore-parse-errors skips malformed messages and events of an unknown type
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'canal-json', 'canal-json.ignore-parse-errors' = 'true');

SELECT * FROM t;
