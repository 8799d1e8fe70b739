-- csv_escape_sequences: csv.escape-character: escaped t, 0, r and n are tab, NUL, CR and LF; any other escaped character is itself
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.escape-character' = '\');

SELECT id, a, CHAR_LENGTH(a) AS n FROM t;
