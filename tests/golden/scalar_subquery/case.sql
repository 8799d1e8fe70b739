-- scalar_subquery: one-row aggregate subqueries used as values in SELECT and WHERE (updated as they change)

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

SELECT order_id, amount, (SELECT MAX(amount) FROM orders) AS max_amount
FROM orders
WHERE amount > (SELECT AVG(amount) FROM orders WHERE status IS NOT NULL) * 1.5;
