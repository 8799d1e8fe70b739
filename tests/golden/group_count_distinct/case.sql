-- group_count_distinct: non-windowed COUNT(DISTINCT) and AVG with retractions

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

SELECT product, COUNT(DISTINCT user_id) AS users, COUNT(*) AS cnt, AVG(amount) AS avg_amount, MIN(price) AS min_price
FROM orders
GROUP BY product;
