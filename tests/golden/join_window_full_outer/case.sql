-- join_window_full_outer: FULL OUTER window join of two window aggregations: each window's rows are joined when it closes, unmatched rows NULL-padded, no retractions

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

CREATE TABLE clicks (
  user_id STRING,
  url STRING,
  referrer STRING,
  duration_s INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.json', 'format' = 'json');

SELECT L.window_start AS lws, L.window_end AS lwe, R.window_start AS rws, L.user_id AS luser, R.user_id AS ruser,
       L.orders_cnt, R.clicks_cnt
FROM (SELECT window_start, window_end, user_id, COUNT(*) AS orders_cnt
      FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
      GROUP BY window_start, window_end, user_id) L
FULL OUTER JOIN (SELECT window_start, window_end, user_id, COUNT(*) AS clicks_cnt
      FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
      GROUP BY window_start, window_end, user_id) R
  ON L.user_id = R.user_id AND L.window_start = R.window_start AND L.window_end = R.window_end;
