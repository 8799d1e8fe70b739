-- join_left_outer: LEFT JOIN: orders without payment stay NULL-padded; a later payment retracts the padded row

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

SELECT o.order_id, o.user_id, p.payment_id, p.pay_method, p.pay_amount
FROM orders o LEFT JOIN payments p ON o.order_id = p.order_id;
