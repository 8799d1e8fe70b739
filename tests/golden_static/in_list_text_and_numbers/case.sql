-- in_list_text_and_numbers: an IN list of text for a number column is cast to the number ('07' is 7, ' 3 ' is 3),
-- a list of numbers for a text column to text, each number by its own type (12.0 is '12.0', so '12' is not in it;
-- 3 beside 12.0 stays '3')
CREATE TABLE t (id INT, s STRING, n STRING, i INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, i IN ('07', ' 3 ') AS x, n IN (12, 3) AS z, n IN (12.0, 3) AS z2, s NOT IN (1, 2) AS z3,
  n IN (12, 3.0) AS z4, n IN (CAST(12 AS DOUBLE), 3) AS z5 FROM t;
