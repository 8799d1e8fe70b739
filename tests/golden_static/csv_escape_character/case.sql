-- csv_escape_character: csv.escape-character escapes the delimiter, the quote and itself, in and outside quotes
CREATE TABLE t (id INT, a STRING, b STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.escape-character' = '\');

SELECT * FROM t;
