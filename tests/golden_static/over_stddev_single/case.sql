-- over_stddev_single: STDDEV/VARIANCE over a frame of one row (sample statistics of one value), FLOAT and DOUBLE arguments
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v, STDDEV(CAST(v AS DOUBLE)) OVER w AS sd, STDDEV(CAST(v AS FLOAT)) OVER w IS NULL AS sd_float_null, VAR_SAMP(v) OVER w AS vs, STDDEV_POP(CAST(v AS DOUBLE)) OVER w AS sp FROM events WINDOW w AS (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '1' MINUTE PRECEDING AND CURRENT ROW);
