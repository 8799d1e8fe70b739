-- json_numbers_in_text: JSON strings into numeric columns parsed after trimming (Integer.parseInt, Double.parseDouble, BigDecimal), BOOLEAN by Boolean.parseBoolean (ignore-parse-errors)
CREATE TABLE t (id INT, i INT, b BIGINT, d DOUBLE, dc DECIMAL(6,2), f BOOLEAN, s SMALLINT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
