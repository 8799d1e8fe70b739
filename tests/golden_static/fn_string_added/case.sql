-- fn_string_added: STARTSWITH, ENDSWITH, REGEXP_COUNT/INSTR/SUBSTR, TRANSLATE, SPLIT, STR_TO_MAP, ARRAY_JOIN, ELT,
-- URL_ENCODE/URL_DECODE over NULLs, empty strings, no matches and characters URLs escape
CREATE TABLE t (id INT, s STRING, p STRING, k INT, m STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, STARTSWITH(s, p) AS sw, ENDSWITH(s, 'a') AS ew, REGEXP_COUNT(s, '[ao]') AS rc, REGEXP_INSTR(s, 'n+') AS ri,
  REGEXP_SUBSTR(s, '[a-z]+') AS rs, TRANSLATE(s, 'ao ', 'A0') AS tr, SPLIT(s, ',') AS sp, SPLIT(s, 'a') AS sp_a,
  STR_TO_MAP(m) AS m1, STR_TO_MAP(m, ';', ':') AS m2, ARRAY_JOIN(ARRAY[s, p, 'z'], '-') AS aj,
  ARRAY_JOIN(ARRAY[s, p], '|', '?') AS aj_null, ELT(k, 'one', 'two', s) AS elt, URL_ENCODE(s) AS ue,
  URL_DECODE(URL_ENCODE(s)) AS ud, URL_DECODE('a%20b+c%zz') AS ud_bad, CHAR_LENGTH(UUID()) AS uuid_len
FROM t;
