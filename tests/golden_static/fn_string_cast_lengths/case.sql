-- fn_string_cast_lengths: CAST to CHAR(n) pads with spaces and cuts, VARCHAR(n) cuts, BINARY(n) pads with zero
-- bytes and cuts, VARBINARY(n) cuts (from text, numbers, BYTES, arrays and rows); X'..' literals; LOCATE from a
-- start before the first character and with an empty needle; SPLIT_INDEX of an empty string and with an empty
-- separator (a cut at each whitespace character); digests and Base64 of BYTES; CONCAT_WS of NULLs only
CREATE TABLE t (id INT, s STRING, n STRING, p STRING, b BYTES, i INT, a ARRAY<INT>, r ROW<x INT, y STRING>)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, CAST(s AS CHAR(3)) AS c3, CAST(s AS VARCHAR(3)) AS v3, CAST(b AS BINARY(3)) AS b3,
  CAST(b AS VARBINARY(3)) AS vb3, CHAR_LENGTH(CAST(s AS CHAR(5))) AS l5, CAST(s AS CHAR(5)) || '|' AS c5,
  CAST(i AS CHAR(2)) AS ic2, CAST(i AS VARCHAR(1)) AS iv1, CAST(s AS BINARY(4)) AS sb4, CAST(b AS VARCHAR(3)) AS bv3,
  TRY_CAST(s AS CHAR(2)) AS t1, CAST(a AS VARCHAR(3)) AS t2, CAST(r AS CHAR(12)) AS t3,
  CAST(s AS CHAR(3)) = 'a  ' AS q2, UPPER(CAST(s AS CHAR(4))) AS q5, TRIM(CAST(s AS CHAR(4))) AS q6,
  CAST('abcdef' AS CHAR(3)) AS k1, CAST(12345 AS VARCHAR(2)) AS k3, CAST(TRUE AS CHAR(2)) AS k4,
  CAST(1.5 AS CHAR(5)) AS k5, CAST(DATE '2024-01-02' AS CHAR(4)) AS k6, CAST(X'0102' AS BINARY(3)) AS k7,
  X'0aFF' AS k8,
  LOCATE('b', s, 0) AS l0, LOCATE('b', s, -1) AS lm, LOCATE('', s, 10) AS le10, LOCATE('c', s, 4) AS l4,
  SPLIT_INDEX(s, '', 0) AS si0, SPLIT_INDEX(p, '', 1) AS si1, SPLIT_INDEX(p, '', 2) AS si2,
  SPLIT_INDEX(n, ',', 0) AS si3, SPLIT_INDEX(n, ' ', 2) AS si4,
  TO_BASE64(b) AS tb, MD5(b) AS h1, SHA256(b) AS h2, SHA2(b, 224) AS h3,
  CONCAT_WS('-', s, n) AS cw
FROM t;
