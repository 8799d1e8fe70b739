-- late_legacy_hop: legacy GROUP BY HOP with HOP_START/HOP_END/HOP_ROWTIME and late rows

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

SELECT product, HOP_START(ts, INTERVAL '20' SECOND, INTERVAL '1' MINUTE) AS hs,
       HOP_END(ts, INTERVAL '20' SECOND, INTERVAL '1' MINUTE) AS he,
       HOP_ROWTIME(ts, INTERVAL '20' SECOND, INTERVAL '1' MINUTE) AS hr, COUNT(*) AS cnt
FROM orders
GROUP BY HOP(ts, INTERVAL '20' SECOND, INTERVAL '1' MINUTE), product;
