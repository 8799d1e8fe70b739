-- fn_cast_text_short_forms: text to DATE takes 'y[-M[-d]]' ('5' is 0005-01-01, '2024-03' is 2024-03-01, a year
-- up to 9999), text to TIME 'H[:m[:s]]' ('5' is 05:00:00), text to BOOLEAN is not trimmed (' true ' is no
-- BOOLEAN), a number with a huge exponent is no DECIMAL, bytes that are no UTF-8 become U+FFFD, and TRY_CAST of a
-- text literal that is no such value is NULL
CREATE TABLE t (k INT, s STRING, bs BYTES)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, TRY_CAST(s AS DATE) AS d, TRY_CAST(s AS TIME) AS tm, TRY_CAST(s AS BOOLEAN) AS b,
  TRY_CAST(s AS DECIMAL(10, 2)) AS de, TRY_CAST(s AS DOUBLE) AS dbl, CAST(bs AS STRING) AS text,
  TRY_CAST('x' AS DATE) AS lit_bad_date, TRY_CAST('2024-13-01' AS TIMESTAMP) AS lit_bad_ts,
  TRY_CAST('2024' AS DATE) AS lit_year, CAST('7:30' AS TIME) AS lit_time
FROM t;
