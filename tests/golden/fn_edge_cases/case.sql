-- fn_edge_cases: NULLs and edge cases of common functions (CONCAT with NULL, negative SUBSTRING, no regex match,
-- out-of-range SPLIT_INDEX, TRY_CAST of bad strings, month arithmetic, epoch conversions)

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
       CONCAT(coupon, '-', status) AS cc, CONCAT_WS('/', coupon, status, product) AS cws,
       SUBSTRING(user_id, -2) AS tail2, SUBSTRING(user_id, 2, 100) AS rest,
       REGEXP_EXTRACT(COALESCE(coupon, ''), '([0-9]+)', 1) AS digits, SPLIT_INDEX(user_id, 'u', 5) AS nothing,
       TRY_CAST(status AS INT) AS status_int, TRY_CAST(CAST(quantity AS STRING) AS INT) + 1 AS q1,
       TIMESTAMPADD(MONTH, 1, ts) AS next_month, TIMESTAMPADD(DAY, -1, ts) AS yesterday,
       CEIL(ts TO DAY) AS ceil_day, FLOOR(ts TO HOUR) AS floor_hour, EXTRACT(MINUTE FROM ts) AS mi,
       UNIX_TIMESTAMP(DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss')) AS epoch_s,
       FROM_UNIXTIME(order_id * 3600) AS from_epoch,
       TRIM(BOTH 'u' FROM user_id) AS trimmed, POSITION('0' IN user_id) AS pos0,
       CASE WHEN coupon LIKE 'SAVE%' THEN 'save' WHEN coupon IS NULL THEN NULL ELSE 'other' END AS kind,
       quantity / 0.5 AS qd, amount * quantity AS total, CAST(quantity AS DOUBLE) / 4 AS quarter,
       CAST(order_id AS VARCHAR) || CAST(price AS VARCHAR) AS joined, price > 500 AND quantity > 5 AS big
FROM orders
WHERE MOD(order_id, 9) = 4;
