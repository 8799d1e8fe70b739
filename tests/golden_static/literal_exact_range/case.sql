-- literal_exact_range: an exact literal's digits must make a 64-bit integer, its minus sign part of it:
-- -9223372036854775808 is a BIGINT, -2147483648 an INT, -922337203685477580.8 a DECIMAL(19, 1)
CREATE TABLE t (k INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, -9223372036854775808 AS min_big, 9223372036854775807 AS max_big, -2147483648 AS min_int,
  2147483648 AS past_int, 922337203685477580.7 AS wide_dec, -922337203685477580.8 AS neg_dec,
  -(2147483648) AS neg_paren, - 5 AS spaced
FROM t;
