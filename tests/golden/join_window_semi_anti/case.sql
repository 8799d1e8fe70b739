-- join_window_semi_anti: window SEMI and ANTI joins ([NOT] EXISTS correlated on window_start, window_end and the user), insert-only

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

CREATE TEMPORARY VIEW o AS
SELECT window_start, window_end, user_id, COUNT(*) AS orders_cnt
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, user_id;

CREATE TEMPORARY VIEW c AS
SELECT window_start, window_end, user_id, COUNT(*) AS clicks_cnt
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, user_id;

SELECT 'with clicks' AS kind, window_start, window_end, user_id, orders_cnt FROM o
WHERE EXISTS (SELECT 1 FROM c WHERE o.user_id = c.user_id AND o.window_start = c.window_start
              AND o.window_end = c.window_end)
UNION ALL
SELECT 'no clicks' AS kind, window_start, window_end, user_id, orders_cnt FROM o
WHERE NOT EXISTS (SELECT 1 FROM c WHERE o.user_id = c.user_id AND o.window_start = c.window_start
                  AND o.window_end = c.window_end);
