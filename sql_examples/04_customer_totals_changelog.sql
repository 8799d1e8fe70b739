-- Running totals per customer: a non-windowed GROUP BY is an updating result.
-- Every order updates its customer's row: the changelog shows -U (old value) and +U (new value);
-- HAVING removes a customer again (-U without +U) once they reach five orders.
-- Try: sqlstream run sql_examples/04_customer_totals_changelog.sql --format jsonl

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
) WITH ('connector' = 'filesystem', 'path' = 'sql_examples/data/orders.json', 'format' = 'json');

SELECT user_id, COUNT(*) AS orders, SUM(price) AS spent, MAX(ts) AS last_order
FROM orders
WHERE user_id IS NOT NULL
GROUP BY user_id
HAVING COUNT(*) < 5;
