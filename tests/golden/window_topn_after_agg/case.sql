-- window_topn_after_agg: window Top-N over a window aggregation (top 3 users by spend per 1-minute window), insert-only

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

SELECT *
FROM (SELECT window_start, window_end, user_id, total, cnt,
             ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY total DESC, user_id) AS rn
      FROM (SELECT window_start, window_end, user_id, SUM(amount) AS total, COUNT(*) AS cnt
            FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end, user_id))
WHERE rn <= 3;
