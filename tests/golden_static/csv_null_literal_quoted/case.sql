-- csv_null_literal_quoted: csv.null-literal makes a field NULL also when quoted, in any column type; the match is case-sensitive
CREATE TABLE t (id INT, a STRING, b INT, c DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.null-literal' = 'n/a');

SELECT * FROM t;
