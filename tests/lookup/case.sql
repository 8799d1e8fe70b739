-- lookup_join: a processing-time lookup join against a file-backed dimension (Flink 2.3 has no lookup on its
-- filesystem connector, so the expectation is computed from the same files in the test)

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
  proc AS PROCTIME(),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/orders.json', 'format' = 'json');

CREATE TABLE users (
  user_id STRING,
  name STRING,
  country STRING,
  tier STRING,
  signup_ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/users.json', 'format' = 'json');

SELECT o.order_id, o.user_id, u.name, u.country
FROM orders AS o
LEFT JOIN users FOR SYSTEM_TIME AS OF o.proc AS u ON o.user_id = u.user_id
WHERE o.amount > 50;
