-- json_invalid_utf8: with json.ignore-parse-errors a line holding invalid UTF-8 is skipped like any malformed one

CREATE TABLE e (
  id INT,
  name STRING
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/e.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT id, name FROM e;
