-- json_ignore_errors: with json.ignore-parse-errors a malformed line is skipped and a wrongly typed field is NULL

CREATE TABLE e (
  id INT,
  qty INT,
  price DOUBLE,
  name STRING
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/e.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT id, qty, price, name FROM e;
