-- filesystem_debezium_changelog: a file of Debezium JSON events is a changelog: c and r insert, u retracts 'before' and adds 'after', d deletes 'before'
CREATE TABLE t (id INT, name STRING, v DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json');

SELECT id, name, v FROM t;
