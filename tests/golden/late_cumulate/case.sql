-- late_cumulate: late rows in CUMULATE windows

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

SELECT window_start, window_end, user_id, COUNT(*) AS cnt, MIN(price) AS min_price
FROM TABLE(CUMULATE(TABLE orders, DESCRIPTOR(ts), INTERVAL '15' SECOND, INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, user_id;
