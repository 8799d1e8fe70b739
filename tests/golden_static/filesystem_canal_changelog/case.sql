-- filesystem_canal_changelog: a file of Canal JSON events is a changelog: each row of 'data' inserted, updated (before: the row with its 'old' fields) or deleted; a CREATE event is no row
CREATE TABLE t (id INT, name STRING, v DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'canal-json');

SELECT id, name, v FROM t;
