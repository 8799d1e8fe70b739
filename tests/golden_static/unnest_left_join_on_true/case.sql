-- unnest_left_join_on_true: LEFT JOIN UNNEST .. ON TRUE keeps rows whose array is empty or NULL once, padded
CREATE TABLE A (id INT, xs ARRAY<INT>, m MAP<STRING, INT>) WITH ('connector'='filesystem','path'='${DATA}/A.json','format'='json');
SELECT id, x FROM A LEFT JOIN UNNEST(xs) AS t(x) ON TRUE;
