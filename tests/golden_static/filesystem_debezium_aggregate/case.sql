-- filesystem_debezium_aggregate: an aggregate over a Debezium JSON file follows its updates and deletes
CREATE TABLE t (id INT, name STRING, v DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json');

SELECT COUNT(*) AS n, SUM(v) AS s FROM t;
