-- json_whitespace_line_ignored: a line of spaces in a JSON file is a malformed document, skipped under ignore-parse-errors; an empty line is none
CREATE TABLE t (id INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
