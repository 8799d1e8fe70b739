-- unnest_map_rows_of_a_slice: UNNEST of a MAP in batches of one row (a slice of the file's batch) takes that row's entries
CREATE TABLE A (id INT, xs ARRAY<INT>, m MAP<STRING, INT>) WITH ('connector'='filesystem','path'='${DATA}/A.json','format'='json');
SELECT id, mk, mv FROM A CROSS JOIN UNNEST(m) AS t(mk, mv);
