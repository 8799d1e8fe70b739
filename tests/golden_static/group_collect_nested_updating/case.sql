-- group_collect_nested_updating: COLLECT of ARRAY, MAP and ROW values and COUNT(DISTINCT) of ARRAY values in a
-- GROUP BY whose input retracts (the latest row per id); each multiset holds one distinct value at a time, so that
-- its text does not depend on the order of a Java hash map
CREATE TABLE events (id INT, k STRING, arr ARRAY<INT>, tags ARRAY<STRING>, r ROW<a INT, b STRING>, m MAP<STRING, INT>)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/events.json', 'format' = 'json');
SELECT k, CAST(COLLECT(tags) AS STRING) AS tag_set, CAST(COLLECT(r) AS STRING) AS row_set,
  CAST(COLLECT(m) AS STRING) AS map_set, COUNT(DISTINCT arr) AS arrays, COUNT(DISTINCT tags) AS tag_kinds,
  COUNT(*) AS n
FROM (SELECT id, LAST_VALUE(k) AS k, LAST_VALUE(arr) AS arr, LAST_VALUE(tags) AS tags, LAST_VALUE(r) AS r,
             LAST_VALUE(m) AS m
      FROM events GROUP BY id)
GROUP BY k;
