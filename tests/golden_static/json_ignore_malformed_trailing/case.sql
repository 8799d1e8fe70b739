-- json_ignore_malformed_trailing: ignore-parse-errors skips documents that are no JSON object; text after a document's first value is not read
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
