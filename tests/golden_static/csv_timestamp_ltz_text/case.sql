-- csv_timestamp_ltz_text: TIMESTAMP_LTZ text must be 'yyyy-MM-dd HH:mm:ss[.f]Z': no T form, no offset, no zone-less value (ignore-parse-errors)
CREATE TABLE t (id INT, v TIMESTAMP_LTZ(3)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv', 'csv.ignore-parse-errors' = 'true');

SELECT id, v, CAST(v AS STRING) AS s FROM t;
