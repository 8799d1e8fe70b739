-- topn_over_agg: Top-3 users by order count over an updating aggregation (retractions into Top-N)

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

SELECT user_id, cnt, rn
FROM (SELECT user_id, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC, user_id) AS rn
      FROM (SELECT user_id, COUNT(*) AS cnt FROM orders WHERE user_id IS NOT NULL GROUP BY user_id))
WHERE rn <= 3;
