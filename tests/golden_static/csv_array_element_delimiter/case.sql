-- csv_array_element_delimiter: ARRAY columns in CSV split at csv.array-element-delimiter, a quoted value may hold the field delimiter
CREATE TABLE t (id INT, a ARRAY<INT>, b ARRAY<STRING>) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.array-element-delimiter' = '|');

SELECT * FROM t;
