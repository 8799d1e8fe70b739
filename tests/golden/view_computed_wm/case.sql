-- view_computed_wm: computed columns, a watermark on a computed column, and a view with a window aggregation

CREATE TABLE orders (
  order_id BIGINT,
  user_id STRING,
  amount DOUBLE,
  quantity INT,
  ts STRING,
  rt AS TO_TIMESTAMP(ts),
  big AS amount > 200,
  WATERMARK FOR rt AS rt - INTERVAL '3' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/orders.json', 'format' = 'json');

CREATE VIEW big_orders AS SELECT order_id, user_id, amount, rt FROM orders WHERE big;

SELECT window_start, window_end, COUNT(*) AS cnt, SUM(amount) AS total
FROM TABLE(TUMBLE(TABLE big_orders, DESCRIPTOR(rt), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end;
