-- filesystem_canal_ignore_field_errors: under canal-json.ignore-parse-errors a field that does not convert is NULL, the row kept; INSERT without data, ALTER and QUERY events are skipped
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'canal-json', 'canal-json.ignore-parse-errors' = 'true');

SELECT * FROM t;
