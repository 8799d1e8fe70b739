-- json_timestamp_epoch_numbers: an epoch number, or its text, is no TIMESTAMP or TIMESTAMP_LTZ in JSON: NULL under ignore-parse-errors
CREATE TABLE t (id INT, v TIMESTAMP_LTZ(3), w TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

SELECT * FROM t;
