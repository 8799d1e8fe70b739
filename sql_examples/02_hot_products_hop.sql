-- Hot products: a HOP window (2 minutes, sliding every 30 seconds) counting orders per product,
-- with COUNT(DISTINCT) and an aggregate FILTER clause.

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
) WITH ('connector' = 'filesystem', 'path' = 'sql_examples/data/orders.json', 'format' = 'json');

SELECT window_start, window_end, product,
       COUNT(*) AS orders,
       COUNT(DISTINCT user_id) AS buyers,
       COUNT(*) FILTER (WHERE coupon IS NOT NULL) AS with_coupon
FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), INTERVAL '30' SECOND, INTERVAL '2' MINUTE))
WHERE product IS NOT NULL
GROUP BY window_start, window_end, product
HAVING COUNT(*) >= 3;
