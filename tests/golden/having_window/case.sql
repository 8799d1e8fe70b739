-- having_window: HAVING on a window aggregation and expressions over aggregates

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

SELECT window_start, user_id, COUNT(*) * 10 AS cnt10, SUM(quantity) / COUNT(*) AS avg_q, MAX(amount) - MIN(amount) AS spread
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, user_id
HAVING COUNT(*) >= 3;
