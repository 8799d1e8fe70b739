-- window_agg_cascaded: a window aggregation over another (per user per HOP window, then per window), insert-only as in Flink

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

SELECT window_start, window_end, COUNT(*) AS users, SUM(cnt) AS orders_cnt, MAX(spend) AS top_spend
FROM (SELECT window_start, window_end, user_id, COUNT(*) AS cnt, SUM(amount) AS spend
      FROM TABLE(HOP(TABLE orders, DESCRIPTOR(ts), INTERVAL '20' SECOND, INTERVAL '1' MINUTE))
      GROUP BY window_start, window_end, user_id)
GROUP BY window_start, window_end;
