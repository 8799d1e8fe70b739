-- agg_retract_filter_rollup: MIN/MAX, COUNT(DISTINCT) and LISTAGG with FILTER (WHERE ..) and ROLLUP over an updating GROUP BY

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

SELECT cnt, MIN(qty) FILTER (WHERE qty > 10) AS min_qty, MAX(last_product) AS max_product,
  COUNT(DISTINCT qty) FILTER (WHERE qty > 10) AS qtys, LISTAGG(user_id, '/') FILTER (WHERE qty > 20) AS users,
  LAST_VALUE(qty) AS last_qty
FROM (SELECT user_id, COUNT(*) AS cnt, SUM(quantity) AS qty, MAX(product) AS last_product FROM orders GROUP BY user_id)
GROUP BY ROLLUP(cnt);
