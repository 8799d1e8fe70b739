-- order_by_time_not_selected: ORDER BY the rowtime without selecting it: a sort on time, insert-only
CREATE TABLE E (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/E.json','format'='json');
SELECT k, v FROM E ORDER BY ts;
