-- filesystem_debezium_ignore_errors: debezium-json.ignore-parse-errors skips malformed messages, values that do not convert and unknown ops
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json', 'debezium-json.ignore-parse-errors' = 'true');

SELECT * FROM t;
