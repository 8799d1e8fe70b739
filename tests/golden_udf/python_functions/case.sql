-- python_functions: Python scalar, table and aggregate functions (CREATE FUNCTION .. LANGUAGE PYTHON), run on Flink

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

CREATE TEMPORARY FUNCTION band AS 'tests.udfs.golden.band' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION scaled AS 'tests.udfs.golden.scaled' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION split_words AS 'tests.udfs.golden.split_words' LANGUAGE PYTHON;
CREATE TEMPORARY FUNCTION weighted_avg AS 'tests.udfs.golden.weighted_avg' LANGUAGE PYTHON;

SELECT band(amount) AS band, w, COUNT(*) AS n, SUM(scaled(quantity, 3)) AS q3, weighted_avg(amount, quantity) AS wavg
FROM orders, LATERAL TABLE(split_words(CONCAT(user_id, '-', product))) AS T(w, len)
WHERE len > 3
GROUP BY band(amount), w;
