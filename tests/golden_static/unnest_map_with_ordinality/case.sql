-- unnest_map_with_ordinality: UNNEST of a MAP WITH ORDINALITY: key, value and position
CREATE TABLE A (id INT, xs ARRAY<INT>, m MAP<STRING, INT>) WITH ('connector'='filesystem','path'='${DATA}/A.json','format'='json');
SELECT id, mk, mv, n FROM A CROSS JOIN UNNEST(m) WITH ORDINALITY AS t(mk, mv, n);
