-- topn_range_shop: Top-N with a rank range (2nd and 3rd most expensive per status), row number projected

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

SELECT status, order_id, price, rk
FROM (SELECT status, order_id, price, ROW_NUMBER() OVER (PARTITION BY status ORDER BY price DESC, order_id) AS rk
      FROM orders)
WHERE rk BETWEEN 2 AND 3;
