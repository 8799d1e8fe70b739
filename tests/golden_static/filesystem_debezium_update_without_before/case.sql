-- filesystem_debezium_update_without_before: an update event without its 'before' image fails the job
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json');

SELECT * FROM t;
