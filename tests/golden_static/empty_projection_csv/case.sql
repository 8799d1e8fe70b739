-- empty_projection_csv: COUNT(*) over a CSV table reads no column (quoted fields with the delimiter, an empty field)

CREATE TABLE fruit (
  id BIGINT,
  name STRING,
  color STRING
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/rows.csv', 'format' = 'csv');

SELECT COUNT(*) AS n FROM fruit;
