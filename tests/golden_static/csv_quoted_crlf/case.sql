-- csv_quoted_crlf: a quoted CSV value over CRLF lines keeps its CRLF
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');

SELECT id, a, CHAR_LENGTH(a) AS n FROM t;
