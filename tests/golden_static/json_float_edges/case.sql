-- json_float_edges: FLOAT and DOUBLE from JSON numbers and text: overflow to Infinity, underflow to 0, rounding to the type (ignore-parse-errors)
CREATE TABLE t (id INT, f FLOAT, d DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT id, f, d, CAST(f AS DOUBLE) AS fd FROM t;
