-- csv_decimal_text_forms: DECIMAL text as new BigDecimal reads it: no spaces around it, exponents and signs allowed, rounded half up, NULL when too wide (ignore-parse-errors)
CREATE TABLE t (id INT, v DECIMAL(5,2)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT * FROM t;
