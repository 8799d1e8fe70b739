-- fn_rand_integer: RAND_INTEGER(seed, bound) draws java.util.Random(seed)'s sequence, one value per row in order,
-- with bounds that are powers of two (one multiplication), others (modulo) and ones near 2^31 (rejected draws),
-- a bound per row, and two calls with one seed giving the same sequence
CREATE TABLE t (id INT, b INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, RAND_INTEGER(42, 10) AS r10, RAND_INTEGER(42, 10) AS r10_again, RAND_INTEGER(7, 1024) AS r_pow2,
  RAND_INTEGER(3, 2000000000) AS r_big, RAND_INTEGER(-5, b) AS r_col, RAND_INTEGER(0, 1) AS r_one,
  RAND_INTEGER(100) < 100 AS unseeded_in_range
FROM t;
