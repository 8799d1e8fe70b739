-- filesystem_raw_bytes: the raw format over a file into BYTES: each line's bytes
CREATE TABLE t (b BYTES) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.txt', 'format' = 'raw');

SELECT TO_BASE64(b) AS b FROM t;
