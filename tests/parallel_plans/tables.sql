-- Tables every case may use (the probe and the test prepend this file to each case).
CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.csv', 'format' = 'csv');
CREATE TABLE u (k STRING, w INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'filesystem', 'path' = '${DATA}/u.csv', 'format' = 'csv');
CREATE TABLE g (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH ('connector' = 'datagen', 'number-of-rows' = '10', 'fields.k.length' = '1');
CREATE TABLE out_kv (k STRING, v BIGINT) WITH ('connector' = 'print');
CREATE TABLE out_kv_pk (k STRING, v BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
CREATE TABLE out_v (v BIGINT) WITH ('connector' = 'print');
CREATE TABLE out_row (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'print');
CREATE TABLE out_join (k STRING, v INT, w INT) WITH ('connector' = 'print');
CREATE TABLE out_win (k STRING, ws TIMESTAMP(3), we TIMESTAMP(3), c BIGINT) WITH ('connector' = 'print');
CREATE TABLE out_rank (k STRING, v INT, rn BIGINT) WITH ('connector' = 'print');
CREATE TABLE fs_out (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/fs_out', 'format' = 'csv');
CREATE TABLE bh (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector' = 'blackhole');
CREATE TABLE g2 (k STRING, v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '10', 'fields.k.length' = '1', 'scan.parallelism' = '1');
CREATE TABLE cdc (k STRING, v INT) WITH ('connector' = 'filesystem', 'path' = '${DATA}/cdc.json', 'format' = 'debezium-json');
CREATE VIEW uv AS SELECT k, w, ts FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts DESC) AS rn FROM u) WHERE rn = 1;
