-- fn_current_row_timestamp: CURRENT_ROW_TIMESTAMP() is the current instant as a TIMESTAMP_LTZ(3), taken per row
CREATE TABLE t (id INT, ts TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, CURRENT_ROW_TIMESTAMP() IS NOT NULL AS present, CURRENT_ROW_TIMESTAMP() > TO_TIMESTAMP_LTZ(0, 3) AS after_1970,
  TYPEOF(CURRENT_ROW_TIMESTAMP()) AS t FROM t;
