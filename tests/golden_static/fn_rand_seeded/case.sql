-- fn_rand_seeded: RAND(seed) draws java.util.Random(seed)'s nextDouble sequence, one value per row in order
CREATE TABLE t (id INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, RAND(42) AS r42, RAND(-3) AS r_neg, RAND(0) AS r0, RAND() < 1 AS unseeded_below_one FROM t;
