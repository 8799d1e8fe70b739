-- in_list_of_rows: (a, b) [NOT] IN a list of rows, in WHERE and as a value: field by field equality with SQL's unknowns (a NULL field matches nothing, NOT IN of it is unknown)
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT id, k, v, (k, v) NOT IN (('a', 10), ('c', 9)) AS other, (v, id) IN ((2, 3), (8, 6)) AS pair
FROM events
WHERE (k, v) IN (('a', 1), ('c', 9), ('a', 10), (CAST(NULL AS STRING), 2), ('e', 3)) OR (v, k) NOT IN ((7, 'b'), (8, 'y'));
