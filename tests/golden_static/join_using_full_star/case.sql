-- join_using_full_star: FULL JOIN .. USING (k): `*` shows k once, first (COALESCE of the two sides), then each side's other columns
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT * FROM events FULL JOIN dims USING (k);
