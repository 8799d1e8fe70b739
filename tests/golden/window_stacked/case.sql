-- window_stacked: window operators stacked on window operators: a window aggregation over a window join, then a window Top-N over that

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

CREATE TEMPORARY VIEW per_product AS
SELECT o.window_start, o.window_end, o.user_id, o.orders_cnt, c.clicks_cnt
FROM o JOIN c ON o.user_id = c.user_id AND o.window_start = c.window_start AND o.window_end = c.window_end;

SELECT *
FROM (SELECT window_start, window_end, user_id, orders_cnt, clicks_cnt,
             ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY clicks_cnt DESC, user_id) AS rn
      FROM per_product)
WHERE rn <= 2;
