-- fn_json_query: JSON_QUERY (objects and arrays as compact JSON with sorted keys, NULL for scalars), JSON_VALUE keeping number digits, JSON_EXISTS
CREATE TABLE d (id INT, doc STRING) WITH ('connector'='filesystem','path'='${DATA}/d.json','format'='json');
SELECT id, JSON_QUERY(doc, '$.a') AS qa, JSON_QUERY(doc, '$.arr') AS qarr, JSON_QUERY(doc, '$.arr[1]') AS q1,
  JSON_QUERY(doc, '$.x') AS qx, JSON_QUERY(doc, '$.missing') AS qm, JSON_QUERY(doc, '$') AS qall,
  JSON_VALUE(doc, '$.n') AS vn, JSON_VALUE(doc, '$.a.b') AS vb, JSON_EXISTS(doc, '$.a') AS ea, JSON_EXISTS(doc, '$.zz') AS ez
FROM d;
