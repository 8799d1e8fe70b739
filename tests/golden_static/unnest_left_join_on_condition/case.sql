-- unnest_left_join_on_condition: LEFT JOIN UNNEST .. ON a condition on the element: rows none of whose elements meets it are kept once, padded
CREATE TABLE A (id INT, xs ARRAY<INT>, m MAP<STRING, INT>) WITH ('connector'='filesystem','path'='${DATA}/A.json','format'='json');
SELECT id, x FROM A LEFT JOIN UNNEST(xs) AS t(x) ON x > 1;
