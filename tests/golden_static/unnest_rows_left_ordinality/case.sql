-- unnest_rows_left_ordinality: LEFT JOIN UNNEST of ROWs WITH ORDINALITY ON TRUE: fields, position (nullable), padded rows
CREATE TABLE B (id INT, rs ARRAY<ROW<a INT, b STRING>>) WITH ('connector'='filesystem','path'='${DATA}/B.json','format'='json');
SELECT id, a, b, n FROM B LEFT JOIN UNNEST(rs) WITH ORDINALITY AS t(a, b, n) ON TRUE;
