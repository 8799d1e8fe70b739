-- csv_pipe_delimiter_escape_no_quote: a '|' delimiter escaped by '\' with quoting disabled: quotes are data, an escaped escape is one backslash
CREATE TABLE t (id INT, a STRING, b STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.field-delimiter' = '|', 'csv.escape-character' = '\', 'csv.disable-quote-character' = 'true');

SELECT * FROM t;
