-- csv_unclosed_quote_ignored: with csv.ignore-parse-errors a quote that is never closed is one malformed record
-- that runs to the end of the file (Flink's CSV reader looks for the closing quote until then)

CREATE TABLE t (
  id INT,
  s STRING,
  x DOUBLE
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT id, s, x FROM t;
