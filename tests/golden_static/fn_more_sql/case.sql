-- fn_more_sql: hashing, base64, HEX/BIN, trigonometry, array and character-class functions as Flink gives them
CREATE TABLE t (id INT, s STRING, x DOUBLE, i INT) WITH ('connector'='filesystem','path'='${DATA}/t.json','format'='json');
SELECT id, SHA1(s) AS sha1, SHA224(s) AS sha224, SHA384(s) AS sha384, SHA512(s) AS sha512, SHA2(s, 256) AS sha2_256,
  SHA2(s, 512) AS sha2_512, TO_BASE64(s) AS b64, FROM_BASE64(TO_BASE64(s)) AS unb64, HEX(i) AS hex_i, HEX(s) AS hex_s,
  BIN(i) AS bin_i, ACOS(x) AS acos_x, ASIN(x) AS asin_x, ATAN(x) AS atan_x, ATAN2(x, CAST(2 AS DOUBLE)) AS atan2_x, COSH(x) AS cosh_x,
  SINH(x) AS sinh_x, TANH(x) AS tanh_x, COT(x) AS cot_x, DEGREES(x) AS deg_x, RADIANS(x) AS rad_x, E() AS e,
  CARDINALITY(ARRAY[i, i + 1, 7]) AS card, ARRAY_CONTAINS(ARRAY[1, 5, 17], i) AS has_i,
  INSTR(s, 'b') AS instr_b, IS_DIGIT(s) AS is_digit, IS_ALPHA(s) AS is_alpha, IS_DECIMAL(s) AS is_decimal,
  CHARACTER_LENGTH(s) AS clen, UPPER(SUBSTR(s, 2)) AS sub2
FROM t;
