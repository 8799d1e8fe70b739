-- match_fraud_small_then_large: three small payments then a large one within 5 minutes, per user (late rows dropped)

CREATE TABLE payments (
  payment_id BIGINT,
  order_id BIGINT,
  user_id STRING,
  pay_method STRING,
  pay_amount DECIMAL(10, 2),
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/payments.json', 'format' = 'json');

SELECT *
FROM payments
MATCH_RECOGNIZE (
  PARTITION BY user_id
  ORDER BY ts
  MEASURES
    FIRST(S.ts) AS first_small_ts,
    L.ts AS large_ts,
    SUM(S.pay_amount) AS small_total,
    AVG(S.pay_amount) AS small_avg,
    L.pay_amount AS large_amount,
    COUNT(S.payment_id) AS small_count,
    MATCH_ROWTIME() AS match_time
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (S{3} L) WITHIN INTERVAL '5' MINUTE
  DEFINE
    S AS S.pay_amount < 400,
    L AS L.pay_amount > 600
) AS fraud;
