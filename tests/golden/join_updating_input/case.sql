-- join_updating_input: INNER JOIN of an updating aggregation with a dimension table (retractions flow through)

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

SELECT t.user_id, u.country, t.cnt, t.total
FROM (SELECT user_id, COUNT(*) AS cnt, SUM(quantity) AS total FROM orders GROUP BY user_id) t
JOIN users u ON t.user_id = u.user_id;
