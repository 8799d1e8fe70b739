-- agg_retract_over_join: MIN/MAX, COUNT(DISTINCT), LISTAGG, FIRST_VALUE and LAST_VALUE over a LEFT JOIN (a user's NULL-padded row is retracted by its
-- first order); per user, so that the result does not depend on how Flink interleaves the two sources

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

SELECT u.user_id, u.tier, MIN(o.amount) AS min_amount, MAX(o.price) AS max_price, MIN(o.product) AS min_product,
  MAX(o.ts) AS max_ts, COUNT(DISTINCT o.product) AS products, COUNT(DISTINCT o.quantity) AS quantities,
  LISTAGG(u.tier, '-') AS tiers, FIRST_VALUE(u.name) AS first_name, LAST_VALUE(u.country) AS last_country
FROM users u LEFT JOIN orders o ON u.user_id = o.user_id
GROUP BY u.user_id, u.tier;
