-- csv_double_text_forms: DOUBLE and FLOAT text as Double.parseDouble reads it: trimmed, NaN/Infinity, f/d suffixes, hexadecimal (0x1p3), no comma decimals (ignore-parse-errors)
CREATE TABLE t (id INT, v DOUBLE, f FLOAT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT * FROM t;
