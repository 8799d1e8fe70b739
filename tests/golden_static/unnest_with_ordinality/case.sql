-- unnest_with_ordinality: CROSS JOIN UNNEST .. WITH ORDINALITY: each element's position from 1 (INT NOT NULL), NULL elements too
CREATE TABLE A (id INT, xs ARRAY<INT>, m MAP<STRING, INT>) WITH ('connector'='filesystem','path'='${DATA}/A.json','format'='json');
SELECT id, x, n FROM A CROSS JOIN UNNEST(xs) WITH ORDINALITY AS t(x, n);
