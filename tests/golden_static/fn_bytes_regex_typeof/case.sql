-- fn_bytes_regex_typeof: ENCODE/DECODE over character sets, UNHEX of odd-length and non-hex text,
-- REGEXP_EXTRACT_ALL with the default and an explicit group, TYPEOF of columns, literals and expressions
CREATE TABLE t (id INT, s STRING, h STRING, i INT, d DOUBLE, log STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, DECODE(ENCODE(s, 'UTF-8'), 'UTF-8') AS utf8, DECODE(ENCODE(s, 'UTF-16LE'), 'UTF-16LE') AS utf16le,
  DECODE(ENCODE(s, 'ISO-8859-1'), 'ISO-8859-1') AS latin1, DECODE(ENCODE(s, 'US-ASCII'), 'US-ASCII') AS ascii_text,
  DECODE(UNHEX(h), 'UTF-8') AS unhexed, UNHEX(h) IS NULL AS bad_hex, CHAR_LENGTH(DECODE(ENCODE(s, 'UTF-16'), 'UTF-16')) AS utf16_len,
  REGEXP_EXTRACT_ALL(log, 'k(\d)=(\w+)') AS keys, REGEXP_EXTRACT_ALL(log, 'k(\d)=(\w+)', 2) AS vals,
  REGEXP_EXTRACT_ALL(log, 'k\d', 0) AS whole, TYPEOF(s) AS t_s, TYPEOF(i) AS t_i, TYPEOF(d * 2) AS t_d,
  TYPEOF(1) AS t_lit, TYPEOF('ab') AS t_char, TYPEOF(ARRAY[i, 2]) AS t_arr, TYPEOF(CAST(d AS DECIMAL(5, 2))) AS t_dec,
  TYPEOF(TO_TIMESTAMP('2024-01-01 00:00:00')) AS t_ts
FROM t;
