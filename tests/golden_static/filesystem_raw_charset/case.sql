-- filesystem_raw_charset: raw.charset decodes each line of a file in that charset
CREATE TABLE t (line STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.txt', 'format' = 'raw', 'raw.charset' = 'ISO-8859-1');

SELECT line, CHAR_LENGTH(line) AS n FROM t;
