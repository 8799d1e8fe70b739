-- csv_embedded_quotes_newlines: quoted CSV values hold newlines, CRLF, delimiters and doubled quotes; a quote inside an unquoted value is data
CREATE TABLE t (id INT, a STRING, b STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');

SELECT * FROM t;
