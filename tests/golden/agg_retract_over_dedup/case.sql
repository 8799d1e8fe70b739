-- agg_retract_over_dedup: MIN/MAX, COUNT(DISTINCT), LISTAGG, FIRST_VALUE and LAST_VALUE over a keep-last deduplication (each user's latest order replaces the previous one)

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

SELECT product, MIN(amount) AS min_amount, MAX(amount) AS max_amount, MAX(status) AS max_status,
  COUNT(DISTINCT quantity) AS qtys, LISTAGG(user_id) AS users, LISTAGG(status, '/') AS statuses,
  FIRST_VALUE(user_id) AS first_user, LAST_VALUE(user_id) AS last_user, LAST_VALUE(coupon) AS last_coupon
FROM (SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC) AS rn FROM orders)
      WHERE rn = 1)
GROUP BY product;
