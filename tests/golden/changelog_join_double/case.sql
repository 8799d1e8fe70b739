-- changelog_join_double: LEFT JOIN of a dimension table with an updating DOUBLE aggregation; the join's retractions carry the aggregation's earlier images

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

SELECT u.user_id, u.country, t.total, t.avg_amount
FROM users u LEFT JOIN (SELECT user_id, SUM(amount) AS total, AVG(amount) AS avg_amount FROM orders GROUP BY user_id) t
ON u.user_id = t.user_id;
