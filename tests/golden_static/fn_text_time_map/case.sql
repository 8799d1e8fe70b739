-- fn_text_time_map: text cast to TIME (it failed: Arrow has no string-to-time cast), with one-digit fields, a
-- fraction cut to TIME(p) and NULL out of range; STR_TO_MAP of empty text is an empty map (was {'': NULL})
CREATE TABLE t (s STRING, m STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT s, TRY_CAST(s AS TIME) AS t0, TRY_CAST(s AS TIME(3)) AS t3,
  STR_TO_MAP(m, ';', '=') AS m_pairs, STR_TO_MAP(m) AS m_default
FROM t;
