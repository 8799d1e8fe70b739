-- MATCH_RECOGNIZE: per user, three small orders followed by a large one within 5 minutes (a classic fraud shape)
CREATE TABLE orders (
  order_id BIGINT, user_id STRING, amount DOUBLE, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'sql_examples/data/orders.json', 'format' = 'json');

SELECT *
FROM orders
MATCH_RECOGNIZE (
  PARTITION BY user_id
  ORDER BY ts
  MEASURES
    FIRST(S.ts) AS first_small,
    L.ts AS large_at,
    ROUND(SUM(S.amount), 2) AS small_total,
    L.amount AS large_amount
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (S{3} L) WITHIN INTERVAL '5' MINUTE
  DEFINE
    S AS S.amount < 200,
    L AS L.amount > 300
) AS suspicious;
