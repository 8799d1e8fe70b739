-- json_array_document_rows: a line of a JSON file holding an array of objects is one row per object; an empty array is none
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');

SELECT * FROM t;
