-- json_array_document_ignore_errors: an array element that is no object ends the array's rows under ignore-parse-errors, the rows before it kept
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
