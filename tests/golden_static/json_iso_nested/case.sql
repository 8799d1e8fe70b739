-- json_iso_nested: ISO-8601 timestamps in JSON, ARRAY/MAP/ROW columns read and passed through, with NULLs

CREATE TABLE events (
  id INT,
  tags ARRAY<STRING>,
  attrs MAP<STRING, STRING>,
  pos ROW<x INT, y INT>,
  happened TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/events.json', 'format' = 'json',
        'json.timestamp-format.standard' = 'ISO-8601');

SELECT id, tags, attrs, pos, happened, CAST(happened AS STRING) AS happened_str FROM events;
