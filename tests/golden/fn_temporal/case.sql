-- fn_temporal: temporal functions: DATE_FORMAT, FLOOR/CEIL TO, EXTRACT, TIMESTAMPADD/DIFF, TO_TIMESTAMP, casts

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
       DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm') AS minute_str, DATE_FORMAT(ts, 'HH:mm:ss.SSS') AS time_str,
       FLOOR(ts TO MINUTE) AS floor_min, CEIL(ts TO HOUR) AS ceil_hour, EXTRACT(SECOND FROM ts) AS sec,
       EXTRACT(DAY FROM ts) AS d, HOUR(ts) AS h, MINUTE(ts) AS mi,
       TIMESTAMPADD(MINUTE, 90, ts) AS plus90, TIMESTAMPDIFF(SECOND, TIMESTAMP '2024-03-01 09:00:00', ts) AS secs,
       TO_TIMESTAMP('2024-03-01 10:11:12') AS parsed, TO_TIMESTAMP('01/03/2024 10:11', 'dd/MM/yyyy HH:mm') AS parsed2,
       CAST(ts AS STRING) AS ts_str, CAST(CAST(ts AS DATE) AS STRING) AS day_str,
       ts + INTERVAL '1' HOUR AS next_hour, ts - INTERVAL '30' SECOND AS earlier
FROM orders
WHERE MOD(order_id, 7) = 0;
