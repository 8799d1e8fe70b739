-- unnest_distinct: CROSS JOIN UNNEST over an ARRAY and a MAP, then SELECT DISTINCT and UNION (distinct)

CREATE TABLE events (
  id INT,
  tags ARRAY<STRING>,
  attrs MAP<STRING, STRING>,
  pos ROW<x INT, y INT>,
  happened TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/events.json', 'format' = 'json',
        'json.timestamp-format.standard' = 'ISO-8601');

SELECT DISTINCT tag FROM events CROSS JOIN UNNEST(tags) AS t (tag)
UNION
SELECT k FROM events CROSS JOIN UNNEST(attrs) AS m (k, v)
UNION
SELECT CAST(pos.x AS STRING) FROM events WHERE pos.x IS NOT NULL;
