-- filter_then_window: rows removed by WHERE still advance the watermark seen by the window

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

SELECT window_start, window_end, status, COUNT(*) AS cnt, SUM(quantity) AS qty
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '20' SECOND))
WHERE status IN ('PAID', 'SHIPPED') AND amount > 100
GROUP BY window_start, window_end, status;
