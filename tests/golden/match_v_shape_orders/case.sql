-- match_v_shape_orders: falling then rising order amounts per user (greedy +, reluctant *?, NULL amounts, late rows)

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

SELECT user_id, start_id, bottom_amount, end_id, downs, ups, avg_down, max_price, qty, end_ts
FROM orders
MATCH_RECOGNIZE (
  PARTITION BY user_id
  ORDER BY ts
  MEASURES
    START_ROW.order_id AS start_id,
    LAST(DOWN.amount) AS bottom_amount,
    LAST(UP.order_id) AS end_id,
    COUNT(DOWN.order_id) AS downs,
    COUNT(UP.order_id) AS ups,
    AVG(DOWN.amount) AS avg_down,
    MAX(price) AS max_price,
    SUM(quantity) AS qty,
    LAST(ts) AS end_ts
  AFTER MATCH SKIP TO LAST UP
  PATTERN (START_ROW DOWN+ UP+?)
  DEFINE
    DOWN AS DOWN.amount < COALESCE(LAST(DOWN.amount, 1), START_ROW.amount),
    UP AS UP.amount > LAST(DOWN.amount)
) AS v;
