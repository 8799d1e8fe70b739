-- Two INSERTs in one file run as one job (like Flink's statement set): a legacy GROUP BY TUMBLE
-- window and a ROLLUP over TUMBLE windows, both written as JSON part files under /tmp/sqlstream_out.

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

CREATE TABLE per_status (
  status STRING, wstart TIMESTAMP(3), wend TIMESTAMP(3), orders BIGINT, items INT
) WITH ('connector' = 'filesystem', 'path' = '/tmp/sqlstream_out/per_status', 'format' = 'json');

CREATE TABLE rollup_out (
  window_start TIMESTAMP(3), status STRING, product STRING, orders BIGINT
) WITH ('connector' = 'filesystem', 'path' = '/tmp/sqlstream_out/rollup', 'format' = 'csv');

EXECUTE STATEMENT SET BEGIN
INSERT INTO per_status
SELECT status, TUMBLE_START(ts, INTERVAL '1' MINUTE), TUMBLE_END(ts, INTERVAL '1' MINUTE), COUNT(*), SUM(quantity)
FROM orders GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), status;
INSERT INTO rollup_out
SELECT window_start, status, product, COUNT(*)
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '2' MINUTE))
GROUP BY window_start, window_end, ROLLUP (status, product);
END;
