-- json_double_special_values: a bare NaN token is malformed JSON (skipped under ignore-parse-errors); NaN, Infinity as strings are numbers; 1e400 is Infinity
CREATE TABLE t (id INT, d DOUBLE, f FLOAT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
