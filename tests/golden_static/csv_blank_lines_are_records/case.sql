-- csv_blank_lines_are_records: a blank line of a CSV file is a record of one empty field, a line of spaces one field of spaces
CREATE TABLE t (s STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');

SELECT s, CHAR_LENGTH(s) AS n FROM t;
