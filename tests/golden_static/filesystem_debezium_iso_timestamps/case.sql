-- filesystem_debezium_iso_timestamps: debezium-json.timestamp-format.standard ISO-8601 reads the images' timestamps in the T form
CREATE TABLE t (id INT, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json', 'debezium-json.timestamp-format.standard' = 'ISO-8601');

SELECT * FROM t;
