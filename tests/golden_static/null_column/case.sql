-- null_column: a column declared NULL is nullable (NULL values stay NULL through IS NULL, COALESCE and COUNT)

CREATE TABLE t (
  id BIGINT NOT NULL,
  a DOUBLE NULL,
  b STRING NULL
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');

SELECT id, a, a IS NULL AS a_null, COALESCE(a, -1.0) AS a_or, b IS NOT NULL AS has_b, CAST(a AS STRING) AS a_text
FROM t;
