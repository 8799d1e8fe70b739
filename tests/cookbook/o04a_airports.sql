-- other-builtin-functions/04_override_table_options/04_override_table_options.md (ververica/flink-sql-cookbook, Apache-2.0)
CREATE TABLE `airports` (
  `IATA_CODE` CHAR(3),
  `AIRPORT` STRING,
  `CITY` STRING,
  `STATE` CHAR(2),
  `COUNTRY` CHAR(3),
  `LATITUDE` DOUBLE NULL,
  `LONGITUDE` DOUBLE NULL,
  PRIMARY KEY (`IATA_CODE`) NOT ENFORCED
) WITH (
  'connector' = 'filesystem',
  'path' = 'airports.csv',
  'format' = 'csv'
);

SELECT * FROM `airports`;
