-- window_topn_late_row_cumulate: window Top-N over CUMULATE without the row number: a row arriving after its windows closed is dropped, in batches of any size
CREATE TABLE E (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/E.json','format'='json');
SELECT window_start, window_end, k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY v DESC) AS r FROM TABLE(CUMULATE(TABLE E, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))) WHERE r <= 2;
