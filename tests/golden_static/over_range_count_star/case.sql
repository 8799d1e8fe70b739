-- over_range_count_star: COUNT(*) alone over a bounded RANGE frame without PARTITION BY (the kept rows have no argument columns)
CREATE TABLE E (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/E.json','format'='json');
SELECT k, v, COUNT(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW) AS c FROM E;
