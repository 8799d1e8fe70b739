-- topn_without_rank: Top-2 per status without the rank column in the output

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

SELECT status, order_id, price
FROM (SELECT status, order_id, price, ROW_NUMBER() OVER (PARTITION BY status ORDER BY price DESC, order_id) AS rk
      FROM orders)
WHERE rk <= 2;
