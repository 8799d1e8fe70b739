-- csv_row_elements: a ROW column in CSV: its fields joined by the array element delimiter, missing ones NULL (ignore-parse-errors)
CREATE TABLE t (id INT, r ROW<a INT, b STRING>) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT * FROM t;
