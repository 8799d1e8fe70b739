-- filesystem_partition_escaped_values: partition values are unescaped from their folder names (%3A, %25), spaces kept
CREATE TABLE t (id INT, dt STRING) PARTITIONED BY (dt) WITH ('connector' = 'filesystem', 'path' = '${DATA}/p', 'format' = 'csv');

SELECT id, dt FROM t;
