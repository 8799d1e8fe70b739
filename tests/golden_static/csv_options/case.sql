-- csv_options: CSV with ignore-parse-errors (an empty INT field becomes NULL), a custom delimiter, quoted fields containing the delimiter and doubled quotes, empty fields

CREATE TABLE trades (
  id BIGINT,
  symbol STRING,
  company STRING,
  price DECIMAL(8, 2),
  qty INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/trades.csv', 'format' = 'csv', 'csv.field-delimiter' = ';', 'csv.ignore-parse-errors' = 'true');

SELECT window_start, symbol, MAX(company) AS company, COUNT(*) AS trades, SUM(qty) AS qty, SUM(price) AS price_sum,
       COUNT(qty) AS qty_known
FROM TABLE(TUMBLE(TABLE trades, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, symbol;
