-- fn_array_map: ARRAY_* and MAP_* functions over empty, NULL and NULL-holding arrays and maps (ARRAY_SLICE with
-- negative positions, ARRAY_SORT orders, set-like functions keep first-seen order)
CREATE TABLE t (id INT, a ARRAY<INT>, b ARRAY<INT>, s STRING, n INT, ks ARRAY<STRING>, vs ARRAY<STRING>)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, ARRAY_APPEND(a, n) AS app, ARRAY_PREPEND(a, n) AS prep, ARRAY_CONCAT(a, b) AS cat,
  ARRAY_DISTINCT(a) AS dist, ARRAY_POSITION(a, 1) AS pos, ARRAY_REMOVE(a, 1) AS rem, ARRAY_REVERSE(a) AS rev,
  ARRAY_SLICE(a, 2) AS sl, ARRAY_SLICE(a, 1, 2) AS sl2, ARRAY_SLICE(a, -2, -1) AS sl_neg, ARRAY_SORT(a) AS srt,
  ARRAY_SORT(a, FALSE) AS srt_desc, ARRAY_SORT(a, TRUE, FALSE) AS srt_nulls_last,
  ARRAY_UNION(a, b) AS uni, ARRAY_EXCEPT(a, b) AS exc, ARRAY_INTERSECT(a, b) AS isect,
  ARRAY_MAX(a) AS amax, ARRAY_MIN(a) AS amin, ARRAY_JOIN(ks, ',') AS joined, ARRAY_CONTAINS(a, n) AS has_n,
  MAP_FROM_ARRAYS(ks, vs) AS m, MAP_KEYS(MAP_FROM_ARRAYS(ks, vs)) AS mk, MAP_VALUES(MAP_FROM_ARRAYS(ks, vs)) AS mv,
  MAP_ENTRIES(MAP_FROM_ARRAYS(ks, vs)) AS me, MAP_UNION(MAP_FROM_ARRAYS(ks, vs), MAP['k1', s]) AS mu,
  CARDINALITY(MAP_FROM_ARRAYS(ks, vs)) AS mc
FROM t;
