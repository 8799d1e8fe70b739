-- csv_time_text: TIME text as LocalTime.parse reads it: seconds optional, fractions cut to milliseconds and to the column's precision (ignore-parse-errors)
CREATE TABLE t (id INT, v TIME(0), w TIME(3)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT * FROM t;
