-- csv_array_empty_and_bad_elements: an empty ARRAY value is an empty array; an element that does not convert is NULL under ignore-parse-errors, the array kept
CREATE TABLE t (id INT, a ARRAY<INT>, b ARRAY<STRING>) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT id, a, b, CARDINALITY(b) AS nb FROM t;
