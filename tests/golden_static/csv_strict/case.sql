-- csv_strict: default CSV options: quoted fields, doubled quotes, empty STRING fields, BOOLEAN and DOUBLE values

CREATE TABLE t (
  id INT,
  name STRING,
  note STRING,
  score DOUBLE,
  flag BOOLEAN
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');

SELECT id, name, note, CHAR_LENGTH(name) AS name_len, name IS NULL AS name_null, score, flag FROM t;
