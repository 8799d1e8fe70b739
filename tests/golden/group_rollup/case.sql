-- group_rollup: ROLLUP in a non-windowed aggregation

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

SELECT status, product, COUNT(*) AS cnt, SUM(quantity) AS qty
FROM orders
GROUP BY ROLLUP (status, product);
