-- set_ops_all: EXCEPT ALL and INTERSECT ALL keep multiplicities (min / difference of the copies), NULLs equal.
-- Flink emits added copies as +U (more +U than -U); compared, as every case, on the final multiset.

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

(SELECT coupon, quantity FROM orders WHERE amount > 100
 EXCEPT ALL
 SELECT coupon, quantity FROM orders WHERE status = 'CANCELLED')
UNION ALL
(SELECT user_id, quantity FROM orders WHERE amount < 100
 INTERSECT ALL
 SELECT user_id, quantity FROM orders WHERE status IN ('CANCELLED', 'PAID'));
