-- Orders per minute: a TUMBLE window over a JSON file with an event-time watermark.
-- Each window's row appears when the watermark (max ts - 5 s) passes the window end,
-- not at the end of the input. Run from the repository root:
--   sqlstream run sql_examples/01_orders_per_minute.sql

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
) WITH (
  'connector' = 'filesystem',
  'path' = 'sql_examples/data/orders.json',
  'format' = 'json'
);

SELECT window_start, window_end, COUNT(*) AS orders, SUM(price * quantity) AS revenue, AVG(amount) AS avg_amount
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;
