-- element_access: arr[i] (1-based, NULL out of range or at a NULL index) and map[key] (NULL when absent)

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

SELECT order_id,
       ARRAY[quantity, quantity * 10, 7][1] AS first_q,
       ARRAY[quantity, quantity * 10, 7][quantity] AS picked,
       COALESCE(ARRAY[quantity, 3][5], -1) AS beyond,
       MAP[status, product, 'x', coupon][status] AS by_status,
       COALESCE(MAP[status, product][coupon], 'none') AS missing
FROM orders;
