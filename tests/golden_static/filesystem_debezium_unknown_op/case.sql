-- filesystem_debezium_unknown_op: an event of an op other than c, r, u, d fails the job, naming the message
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json');

SELECT * FROM t;
