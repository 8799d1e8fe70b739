-- json_array_document_count: COUNT(*) of a JSON file counts each object of an array line
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');

SELECT COUNT(*) AS n FROM t;
