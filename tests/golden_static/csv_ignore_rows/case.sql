-- csv_ignore_rows: csv.ignore-parse-errors with too few fields, too many fields, and values of the wrong type

CREATE TABLE r (
  id INT,
  symbol STRING,
  price DOUBLE,
  qty INT
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/rows.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT id, symbol, price, qty FROM r;
