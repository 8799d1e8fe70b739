-- filesystem_maxwell_unknown_type: a Maxwell event of a type other than insert, update, delete (bootstrap-insert) fails the job, naming the message
CREATE TABLE t (id INT, name STRING, v DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'maxwell-json');

SELECT id, name, v FROM t;
