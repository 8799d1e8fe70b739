-- unnest_array_of_rows: UNNEST of an ARRAY of ROWs gives a column per field
CREATE TABLE B (id INT, rs ARRAY<ROW<a INT, b STRING>>) WITH ('connector'='filesystem','path'='${DATA}/B.json','format'='json');
SELECT id, a, b FROM B CROSS JOIN UNNEST(rs) AS t(a, b);
