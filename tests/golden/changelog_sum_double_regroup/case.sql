-- changelog_sum_double_regroup: GROUP BY over a GROUP BY whose SUM/AVG of a DOUBLE is retracted: each -U must carry exactly the value emitted before, or the outer groups never empty

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

SELECT total, COUNT(*) AS products, SUM(cnt) AS orders
FROM (SELECT product, COUNT(*) AS cnt, SUM(amount) AS total, AVG(amount) AS avg_amount FROM orders GROUP BY product)
GROUP BY total;
