-- json_boolean_forms: BOOLEAN from JSON: true/false, text parsed as Boolean.parseBoolean, numbers and containers false (ignore-parse-errors)
CREATE TABLE t (id INT, v BOOLEAN) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
