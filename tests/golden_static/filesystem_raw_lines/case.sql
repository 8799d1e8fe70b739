-- filesystem_raw_lines: the raw format over a file: each line one STRING value, blank lines too, line breaks (also CRLF) cut
CREATE TABLE t (line STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.txt', 'format' = 'raw');

SELECT line, CHAR_LENGTH(line) AS n FROM t;
