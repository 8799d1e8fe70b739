-- semi_anti_in: IN (subquery) as a semi join and NOT IN (subquery) as an anti join, over a dimension table

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

CREATE TABLE users (
  user_id STRING,
  name STRING,
  country STRING,
  tier STRING,
  signup_ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/users.json', 'format' = 'json');

SELECT order_id, user_id, amount
FROM orders
WHERE user_id IN (SELECT user_id FROM users WHERE tier = 'gold')
  AND user_id NOT IN (SELECT user_id FROM orders WHERE status = 'CANCELLED' AND quantity > 8 AND user_id IS NOT NULL)
  AND amount > 50;
