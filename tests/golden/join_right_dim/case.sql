-- join_right_dim: RIGHT JOIN of a dimension table with an event stream, with a filter

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

SELECT u.user_id, u.country, o.order_id, o.amount
FROM orders o RIGHT JOIN users u ON o.user_id = u.user_id
WHERE u.tier <> 'bronze';
