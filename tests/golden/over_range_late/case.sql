-- over_range_late: OVER RANGE 30 s preceding with late rows (dropped per partition), AVG of INT and DECIMAL

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

SELECT order_id, user_id, ts,
       COUNT(*) OVER w AS cnt, SUM(quantity) OVER w AS qty, AVG(quantity) OVER w AS avg_qty, AVG(price) OVER w AS avg_price,
       MIN(amount) OVER w AS min_amount
FROM orders
WINDOW w AS (PARTITION BY user_id ORDER BY ts RANGE BETWEEN INTERVAL '30' SECOND PRECEDING AND CURRENT ROW);
