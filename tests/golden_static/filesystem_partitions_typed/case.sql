-- filesystem_partitions_typed: partition columns from k=v folders, typed (INT) and usable in expressions
CREATE TABLE t (id INT, v STRING, dt STRING, h INT) PARTITIONED BY (dt, h) WITH ('connector' = 'filesystem', 'path' = '${DATA}/p', 'format' = 'csv');

SELECT id, v, dt, h, h + 1 AS h1 FROM t;
