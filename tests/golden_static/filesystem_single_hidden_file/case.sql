-- filesystem_single_hidden_file: a 'path' naming one file whose name starts with '_' reads nothing, as a hidden file in a folder
CREATE TABLE t (id INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/_a.csv', 'format' = 'csv');

SELECT * FROM t;
