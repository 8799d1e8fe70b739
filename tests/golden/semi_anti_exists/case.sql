-- semi_anti_exists: correlated EXISTS as a semi join and NOT EXISTS (two correlation keys) as an anti join

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

SELECT o.order_id, o.user_id, o.amount
FROM orders o
WHERE EXISTS (SELECT 1 FROM users u WHERE u.user_id = o.user_id AND u.tier <> 'bronze')
  AND NOT EXISTS (SELECT * FROM orders c WHERE c.status = 'CANCELLED' AND c.user_id = o.user_id AND c.product = o.product)
  AND o.amount > 40;
