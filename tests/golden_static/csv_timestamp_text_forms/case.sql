-- csv_timestamp_text_forms: TIMESTAMP text in the SQL pattern only: trimmed, fractions cut to the precision, 24:00:00 is the next day's midnight, no T or zone (ignore-parse-errors)
CREATE TABLE t (id INT, v TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT * FROM t;
