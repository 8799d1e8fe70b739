-- set_op_widened_inputs: INTERSECT and EXCEPT [ALL] type their columns as the least restrictive of both inputs'
-- (INT with DECIMAL(10, 2) is DECIMAL(12, 2), CHAR(5) with STRING is STRING), as UNION does, and rows match on
-- the widened values (10 meets 10.00)
CREATE TABLE a (k INT, i INT, c CHAR(5))
WITH ('connector' = 'filesystem', 'path' = '${DATA}/a.json', 'format' = 'json');
CREATE TABLE b (k INT, de DECIMAL(10, 2), s STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/b.json', 'format' = 'json');
(SELECT i, c FROM a INTERSECT SELECT de, s FROM b)
UNION ALL (SELECT i, c FROM a EXCEPT ALL SELECT de, s FROM b)
UNION ALL (SELECT i, c FROM a EXCEPT SELECT de, s FROM b);
