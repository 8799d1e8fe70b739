-- csv_quoted_newlines: a quoted CSV value may hold newlines (and doubled quotes): one record over several lines

CREATE TABLE t (
  id INT,
  s STRING
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');

SELECT id, s, CHAR_LENGTH(s) AS n FROM t;
