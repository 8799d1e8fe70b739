-- changelog_set_ops_double: EXCEPT ALL and INTERSECT ALL over updating DOUBLE aggregations, regrouped (a retracted
-- copy must equal the one added)

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

SELECT product, COUNT(*) AS copies, SUM(total) AS total
FROM (
  (SELECT product, SUM(amount) AS total FROM orders GROUP BY product
   EXCEPT ALL
   SELECT product, SUM(amount) AS total FROM orders WHERE status <> 'CANCELLED' GROUP BY product)
  UNION ALL
  (SELECT product, SUM(amount) AS total FROM orders GROUP BY product
   INTERSECT ALL
   SELECT product, SUM(amount) AS total FROM orders WHERE quantity > 0 GROUP BY product))
GROUP BY product;
