-- fn_branches_taken_rows: a CASE / IF branch, and the right side of AND / OR, is evaluated only for the rows that
-- reach it, so a division by zero, a cast of text that is no number or a MAP with a NULL key on rows that do not
-- reach it does not fail the query
CREATE TABLE t (id INT, s STRING, n STRING, i INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, IF(i <> 0, 10 / i, 0) AS q, CASE WHEN i = 0 THEN -1 WHEN 100 / i > 20 THEN 1 ELSE 2 END AS w,
  CASE WHEN n <> '' AND n <> 'x1' THEN CAST(TRIM(n) AS INT) END AS c,
  CASE WHEN s IS NOT NULL THEN MAP[s, i] END AS m, CARDINALITY(CASE WHEN s IS NULL THEN MAP['none', 0] ELSE MAP[s, i] END) AS k,
  i <> 0 AND 10 / i > 1 AS a1, i = 0 OR 10 / i > 1 AS o1, i IS NULL OR i = 0 OR 10 / i < 0 AS o2
FROM t;
