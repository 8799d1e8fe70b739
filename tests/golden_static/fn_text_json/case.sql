-- fn_text_json: JSON_OBJECT, JSON_ARRAY (NULL/ABSENT ON NULL, nesting), JSON_STRING, JSON_QUOTE/UNQUOTE, IS JSON
-- [OBJECT|SCALAR|ARRAY], PARSE_URL parts and query keys (unknown protocols), PRINTF conversions and flags with
-- NULLs, INET_ATON/INET_NTOA over escapes, non-ASCII text, large and small doubles and malformed input
CREATE TABLE t (id INT, s STRING, i INT, d DOUBLE, u STRING, ip STRING, j STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, JSON_OBJECT('k' VALUE s, 'n' VALUE i) AS obj, JSON_OBJECT('k' VALUE s ABSENT ON NULL) AS obj_absent,
  JSON_OBJECT('o' VALUE JSON_OBJECT('x' VALUE d)) AS nested, JSON_ARRAY(i, s, d) AS arr,
  JSON_ARRAY(i, s NULL ON NULL) AS arr_nulls, JSON_ARRAY(JSON_ARRAY(i)) AS arr_nested,
  JSON_STRING(s) AS js, JSON_STRING(i) AS ji, JSON_STRING(d) AS jd, JSON_STRING(ARRAY[i, i + 1]) AS ja,
  JSON_STRING(i > 5) AS jb, JSON_QUOTE(s) AS jq, JSON_UNQUOTE(JSON_QUOTE(s)) AS juq,
  j IS JSON AS is_json, j IS JSON OBJECT AS is_obj, j IS JSON SCALAR AS is_scalar, j IS JSON ARRAY AS is_arr,
  PARSE_URL(u, 'HOST') AS host, PARSE_URL(u, 'PATH') AS path_part, PARSE_URL(u, 'QUERY') AS q,
  PARSE_URL(u, 'QUERY', 'k2') AS q2, PARSE_URL(u, 'QUERY', 'x') AS qx, PARSE_URL(u, 'REF') AS ref_part,
  PARSE_URL(u, 'PROTOCOL') AS proto, PARSE_URL(u, 'AUTHORITY') AS auth, PARSE_URL(u, 'FILE') AS file_part,
  PARSE_URL(u, 'USERINFO') AS ui, PRINTF('%s=%d', s, i) AS pf, PRINTF('%.2f|%5s|', d, s) AS pf2,
  PRINTF('%05d|%-4s|%x|%X|%e|%10.3f|%b|%S|%%', i, s, i, i, d, d, s, s) AS pf3, INET_ATON(ip) AS aton,
  INET_NTOA(INET_ATON(ip)) AS ntoa
FROM t;
