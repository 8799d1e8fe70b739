-- filesystem_debezium_schema_include: debezium-json.schema-include: each event is the 'payload' of a message that also holds its schema
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json', 'debezium-json.schema-include' = 'true');

SELECT * FROM t;
