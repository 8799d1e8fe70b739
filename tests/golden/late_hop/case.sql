-- late_hop: late rows in HOP windows: a row late for its first windows still counts in later ones

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

SELECT window_start, window_end, COUNT(*) AS cnt, SUM(amount) AS total, MAX(order_id) AS max_id
FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '40' SECOND))
GROUP BY window_start, window_end;
