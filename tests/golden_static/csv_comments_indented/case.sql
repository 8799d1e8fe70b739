-- csv_comments_indented: csv.allow-comments skips lines starting with '#', also after leading spaces; a '#' later in a line is data
CREATE TABLE t (id INT, a STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.allow-comments' = 'true');

SELECT * FROM t;
