-- csv_blank_lines_ignore_errors: blank lines (LF and CRLF) of a two-column CSV file are rows of NULLs under ignore-parse-errors
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT * FROM t;
