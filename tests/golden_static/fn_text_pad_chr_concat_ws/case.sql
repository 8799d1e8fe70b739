-- fn_text_pad_chr_concat_ws: LPAD/RPAD with an empty pad are NULL whatever the width (a shorter width cut the text
-- before), CHR of a negative code is '' (was 'ÿ'), CONCAT_WS with a column as separator (was refused)
CREATE TABLE t (s STRING, e STRING, sep STRING, n STRING, i INT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT s, RPAD(s, 2, '') AS rpad_cut_empty, LPAD(e, 1, '') AS lpad_cut_empty, RPAD(e, 4, '') AS rpad_grow_empty,
  LPAD(s, 0, 'x') AS lpad_zero, CHR(i) AS chr_i, CONCAT_WS(sep, s, n, e) AS cws_col, CONCAT_WS(sep, n) AS cws_nulls
FROM t;
