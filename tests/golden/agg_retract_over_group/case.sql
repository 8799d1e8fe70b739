-- agg_retract_over_group: MIN/MAX (numbers, strings, timestamps), COUNT(DISTINCT), LISTAGG, FIRST_VALUE and LAST_VALUE over an updating GROUP BY (each -U retracts a value from the outer aggregates)

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

SELECT cnt, MIN(qty) AS min_qty, MAX(qty) AS max_qty, MIN(total) AS min_total, MAX(last_product) AS max_product,
  MAX(last_ts) AS max_ts, COUNT(DISTINCT qty) AS qtys, LISTAGG(user_id) AS users, LISTAGG(user_id, '|') AS users_bar,
  FIRST_VALUE(user_id) AS first_user, LAST_VALUE(user_id) AS last_user, FIRST_VALUE(total) AS first_total
FROM (SELECT user_id, COUNT(*) AS cnt, SUM(quantity) AS qty, SUM(amount) AS total, MAX(product) AS last_product,
             MAX(ts) AS last_ts
      FROM orders GROUP BY user_id)
GROUP BY cnt;
