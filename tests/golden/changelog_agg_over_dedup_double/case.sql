-- changelog_agg_over_dedup_double: SUM/AVG of a DOUBLE over a keep-last deduplication (each user's latest order), regrouped

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

SELECT product, COUNT(*) AS users, SUM(amount) AS total, AVG(amount) AS avg_amount
FROM (SELECT user_id, product, amount FROM
        (SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC) AS rn FROM orders) WHERE rn = 1)
GROUP BY product;
