-- union_then_window: UNION ALL of two streams feeding a window aggregation (watermark is the minimum of both)

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

CREATE TEMPORARY VIEW events AS
SELECT user_id, 'order' AS kind, ts FROM orders
UNION ALL
SELECT user_id, 'click' AS kind, ts FROM clicks;

SELECT window_start, window_end, kind, COUNT(*) AS cnt
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '30' SECOND))
GROUP BY window_start, window_end, kind;
