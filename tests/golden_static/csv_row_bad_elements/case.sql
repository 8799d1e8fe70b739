-- csv_row_bad_elements: a ROW value's fields that do not convert are NULL under ignore-parse-errors, the ROW kept; extra elements are ignored
CREATE TABLE t (id INT, r ROW<a INT, b STRING>) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT * FROM t;
