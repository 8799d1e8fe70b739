-- json_float_into_integers: JSON numbers into integers: INT and BIGINT truncate fractions, SMALLINT and TINYINT parse the text and refuse them, out of range fails (ignore-parse-errors)
CREATE TABLE t (id INT, i INT, b BIGINT, s SMALLINT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
