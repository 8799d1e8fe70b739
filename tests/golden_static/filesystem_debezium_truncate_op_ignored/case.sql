-- filesystem_debezium_truncate_op_ignored: debezium-json.ignore-parse-errors skips a truncate (t) event and an event without op
CREATE TABLE t (id INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json', 'debezium-json.ignore-parse-errors' = 'true');

SELECT * FROM t;
