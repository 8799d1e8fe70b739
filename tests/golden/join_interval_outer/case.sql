-- join_interval_outer: LEFT and RIGHT interval joins; an unmatched row is NULL-padded once its interval has
-- passed the watermark, so the result is append-only

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

CREATE TABLE payments (
  payment_id BIGINT,
  order_id BIGINT,
  user_id STRING,
  pay_method STRING,
  pay_amount DECIMAL(10, 2),
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/payments.json', 'format' = 'json');

SELECT o.order_id, o.user_id, p.payment_id, p.pay_amount, o.ts AS order_ts, p.ts AS pay_ts
FROM orders o LEFT JOIN payments p
  ON o.order_id = p.order_id AND p.ts BETWEEN o.ts - INTERVAL '5' SECOND AND o.ts + INTERVAL '30' SECOND
UNION ALL
SELECT p.order_id, p.user_id, p.payment_id, p.pay_amount, o.ts AS order_ts, p.ts AS pay_ts
FROM orders o RIGHT JOIN payments p
  ON o.order_id = p.order_id AND o.ts >= p.ts - INTERVAL '10' SECOND AND o.ts < p.ts;
