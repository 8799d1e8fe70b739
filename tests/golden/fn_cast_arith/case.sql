-- fn_cast_arith: casts between types and arithmetic edge cases: negative integer division, MOD, DECIMAL, DOUBLE to STRING

CREATE TABLE orders (
  order_id BIGINT,
  user_id STRING,
  product STRING,
  amount DOUBLE,
  price DECIMAL(10, 2),
  quantity INT,
  status STRING,
  coupon STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/orders.json', 'format' = 'json');

SELECT order_id,
       CAST(quantity AS STRING) AS q_str, CAST(amount AS STRING) AS a_str, CAST(price AS STRING) AS p_str,
       CAST(amount > 100 AS STRING) AS b_str, CAST(CAST(quantity AS STRING) AS INT) * 2 AS q2,
       (quantity - 5) / 2 AS neg_div, MOD(quantity - 5, 3) AS neg_mod, -quantity AS negq,
       CAST(price AS DOUBLE) * 2 AS p2, price + 1 AS p_plus, price - amount AS mixed, price * 1.5 AS p15,
       CAST(amount AS BIGINT) AS a_long, CAST(price AS INT) AS p_int, ROUND(amount, -1) AS r_neg,
       ABS(quantity - 5) AS absq, amount / 0.5 AS halves, quantity * 1.0 / 3 AS third_dec,
       CAST(order_id AS DOUBLE) / 3 AS third_dbl, 7 / 2 AS lit_div, 7 % 3 AS lit_mod
FROM orders
WHERE MOD(order_id, 5) = 0;
