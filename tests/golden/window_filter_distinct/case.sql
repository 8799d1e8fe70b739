-- window_filter_distinct: FILTER (WHERE ..), COUNT(DISTINCT), AVG of BIGINT and DOUBLE in a window aggregation

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

SELECT window_start, window_end,
       COUNT(*) AS cnt, COUNT(*) FILTER (WHERE status = 'PAID') AS paid,
       COUNT(DISTINCT user_id) AS users, COUNT(DISTINCT product) FILTER (WHERE quantity > 4) AS big_products,
       SUM(amount) FILTER (WHERE coupon IS NOT NULL) AS coupon_amount,
       AVG(order_id) AS avg_id, AVG(amount) AS avg_amount, MIN(user_id) AS min_user, MAX(ts) AS max_ts
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;
