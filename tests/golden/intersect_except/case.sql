-- intersect_except: INTERSECT and EXCEPT (distinct) between two streams

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
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.json', 'format' = 'json');

SELECT user_id, 'bought and clicked' AS kind FROM (
  SELECT user_id FROM orders WHERE status = 'PAID'
  INTERSECT
  SELECT user_id FROM clicks WHERE referrer = 'google')
UNION ALL
SELECT user_id, 'bought only' AS kind FROM (
  SELECT user_id FROM orders WHERE quantity > 7
  EXCEPT
  SELECT user_id FROM clicks WHERE duration_s > 100);
