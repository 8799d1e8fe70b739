-- json_timestamp_iso_forms: json.timestamp-format.standard ISO-8601: seconds optional, 't' of either case, no zone, no space form (ignore-parse-errors)
CREATE TABLE t (id INT, v TIMESTAMP(3), w TIMESTAMP(6)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.ignore-parse-errors' = 'true', 'json.timestamp-format.standard' = 'ISO-8601');

SELECT * FROM t;
