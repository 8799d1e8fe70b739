-- filesystem_canal_include: canal-json.database.include and table.include keep only the events of matching databases and tables
CREATE TABLE t (id INT, name STRING, v DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'canal-json', 'canal-json.table.include' = 't1', 'canal-json.database.include' = 'db');

SELECT id, name, v FROM t;
