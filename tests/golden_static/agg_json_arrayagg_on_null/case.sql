-- agg_json_arrayagg_on_null: JSON_ARRAYAGG(x NULL ON NULL) writes NULLs as null, ABSENT ON NULL (the default) leaves them out
-- (the clause was a parse error)
CREATE TABLE t (k STRING, v INT, s STRING, j STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, JSON_ARRAYAGG(v) AS aagg, JSON_ARRAYAGG(v NULL ON NULL) AS aagg_null, JSON_ARRAYAGG(s ABSENT ON NULL) AS aagg_absent,
  COUNT(*) AS n
FROM t GROUP BY k;
