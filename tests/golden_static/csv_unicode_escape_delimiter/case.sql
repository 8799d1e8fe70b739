-- csv_unicode_escape_delimiter: csv.field-delimiter takes Java's escapes: '\u0001' is the control character U+0001
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.field-delimiter' = '\u0001');

SELECT * FROM t;
