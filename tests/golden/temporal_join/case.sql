-- temporal_join: each order joins the user's latest click at or before the order's time (event-time temporal
-- join against a versioned table), INNER and LEFT, with an extra condition

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

CREATE TABLE clicks (
  user_id STRING,
  url STRING,
  referrer STRING,
  duration_s INT,
  ts TIMESTAMP(3),
  PRIMARY KEY (user_id) NOT ENFORCED,
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.json', 'format' = 'json');

SELECT o.order_id, o.user_id, o.ts, c.url, c.duration_s, c.ts AS click_ts, 'inner' AS kind
FROM orders AS o
JOIN clicks FOR SYSTEM_TIME AS OF o.ts AS c ON o.user_id = c.user_id
UNION ALL
SELECT o.order_id, o.user_id, o.ts, c.url, c.duration_s, c.ts AS click_ts, 'left' AS kind
FROM orders AS o
LEFT JOIN clicks FOR SYSTEM_TIME AS OF o.ts AS c ON o.user_id = c.user_id AND c.duration_s > 30;
