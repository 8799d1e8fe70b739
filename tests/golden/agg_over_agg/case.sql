-- agg_over_agg: GROUP BY over an updating GROUP BY (retractions flow into the second aggregation)

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

SELECT cnt, COUNT(*) AS users, SUM(total) AS total
FROM (SELECT user_id, COUNT(*) AS cnt, SUM(quantity) AS total FROM orders GROUP BY user_id)
GROUP BY cnt;
