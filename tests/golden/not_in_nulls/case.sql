-- not_in_nulls: NOT IN (subquery) is NULL-aware: rows pass while the subquery is empty, a NULL on either side
-- blocks them once it is not, and a NULL retracted from the subquery (MAX turning non-NULL) unblocks them

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

SELECT order_id, user_id, coupon
FROM orders
WHERE coupon NOT IN (SELECT MAX(coupon) FROM orders WHERE product IS NOT NULL GROUP BY product)
  AND user_id NOT IN (SELECT user_id FROM orders WHERE quantity > 8);
