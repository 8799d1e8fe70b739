-- EXPLAIN prints the operator tree with each edge's changelog mode (I = insert-only,
-- I,UB,UA = updating with retractions).

CREATE TABLE orders (
  order_id BIGINT,
  user_id STRING,
  amount DOUBLE,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'sql_examples/data/orders.json', 'format' = 'json');

EXPLAIN
SELECT user_id, COUNT(*) AS orders
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
WHERE amount > 100
GROUP BY window_start, window_end, user_id;

EXPLAIN
SELECT user_id, SUM(amount) FROM orders GROUP BY user_id;
