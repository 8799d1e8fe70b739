-- changelog_topn_double: Top-3 products by a DOUBLE SUM (retracted row images come from the aggregation and the ranking)

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

SELECT product, total, avg_amount, rn
FROM (SELECT product, total, avg_amount, ROW_NUMBER() OVER (ORDER BY total DESC) AS rn
      FROM (SELECT product, SUM(amount) AS total, AVG(amount) AS avg_amount FROM orders GROUP BY product))
WHERE rn <= 3;
