-- csv_bytes_base64: the csv format reads a BYTES column as Base64 text ('' is no bytes), as Flink's CSV format
CREATE TABLE t (id INT, b BYTES)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');
SELECT id, b, TO_BASE64(b) AS tb, b = X'010203' AS eq FROM t;
