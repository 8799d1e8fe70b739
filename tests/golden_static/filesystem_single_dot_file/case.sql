-- filesystem_single_dot_file: a 'path' naming one file whose name starts with '.' reads nothing
CREATE TABLE t (id INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/.a.csv', 'format' = 'csv');

SELECT * FROM t;
