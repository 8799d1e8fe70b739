-- legacy_hop_uneven: legacy GROUP BY HOP whose size (50 s) is not a multiple of the slide (20 s), with late rows

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

SELECT product, HOP_START(ts, INTERVAL '20' SECOND, INTERVAL '50' SECOND) AS hs,
       HOP_END(ts, INTERVAL '20' SECOND, INTERVAL '50' SECOND) AS he, COUNT(*) AS cnt, SUM(quantity) AS qty
FROM orders
GROUP BY HOP(ts, INTERVAL '20' SECOND, INTERVAL '50' SECOND), product;
