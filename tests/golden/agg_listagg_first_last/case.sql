-- agg_listagg_first_last: LISTAGG (default and given separator), FIRST_VALUE and LAST_VALUE in a non-windowed GROUP BY over an insert-only input (NULLs skipped)

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

SELECT user_id, LISTAGG(product) AS products, LISTAGG(status, '; ') AS statuses, FIRST_VALUE(product) AS first_product,
  LAST_VALUE(product) AS last_product, FIRST_VALUE(amount) AS first_amount, LAST_VALUE(coupon) AS last_coupon,
  FIRST_VALUE(ts) AS first_ts, LAST_VALUE(price) AS last_price
FROM orders
GROUP BY user_id;
