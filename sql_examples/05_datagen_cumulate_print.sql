-- Generated data, no files needed: a datagen table with an event time derived from a sequence,
-- a CUMULATE window (running per-10-second totals within each minute), written to the print sink.

CREATE TABLE readings (
  id BIGINT,
  sensor INT,
  reading DOUBLE,
  ts AS TO_TIMESTAMP_LTZ(1700000000000 + id * 250, 3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (
  'connector' = 'datagen',
  'number-of-rows' = '2000',
  'rows-per-second' = '0',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '2000',
  'fields.sensor.min' = '1', 'fields.sensor.max' = '4',
  'fields.reading.min' = '0', 'fields.reading.max' = '100'
);

CREATE TABLE console (
  window_start TIMESTAMP(3),
  window_end TIMESTAMP(3),
  sensor INT,
  readings BIGINT,
  max_reading DOUBLE
) WITH ('connector' = 'print', 'print-identifier' = 'cumulate');

INSERT INTO console
SELECT window_start, window_end, sensor, COUNT(*), MAX(reading)
FROM TABLE(CUMULATE(TABLE readings, DESCRIPTOR(ts), INTERVAL '10' SECOND, INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, sensor;
