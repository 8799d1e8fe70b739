-- python_aggregate_window: a Python aggregate function in a TUMBLE window aggregation, run on Flink

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

CREATE TEMPORARY FUNCTION weighted_avg AS 'tests.udfs.golden.weighted_avg' LANGUAGE PYTHON;

SELECT window_start, window_end, user_id, weighted_avg(amount, quantity) AS wavg, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, user_id;
