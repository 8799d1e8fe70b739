-- fn_cast_text_parsing: text cast as Flink parses it: integers with a sign, spaces or a cut-off fraction ('1.5' is 1,
-- '.5' is 0; no exponent, no hexadecimal), Flink's words for BOOLEAN (yes, 1, t), DATE with one-digit fields or a time
-- after a space, DECIMAL counting leading zeros; NULL out of range
CREATE TABLE t (s STRING, n STRING, x STRING, f STRING, b STRING, dt STRING, ts STRING, iso STRING, bad STRING, neg STRING)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT TRY_CAST(s AS INT) AS s_int, TRY_CAST(n AS INT) AS n_int, TRY_CAST(n AS BIGINT) AS n_big, TRY_CAST(x AS INT) AS x_int,
  TRY_CAST(x AS DOUBLE) AS x_dbl, TRY_CAST(x AS DECIMAL(10,3)) AS x_dec, TRY_CAST(f AS INT) AS f_int, TRY_CAST(f AS DECIMAL(4,1)) AS f_dec,
  TRY_CAST(f AS DOUBLE) AS f_dbl, TRY_CAST(b AS BOOLEAN) AS b_bool, TRY_CAST(bad AS BOOLEAN) AS bad_bool, TRY_CAST(dt AS DATE) AS dt_date,
  TRY_CAST(ts AS TIMESTAMP(3)) AS ts_ts3, TRY_CAST(ts AS TIMESTAMP(9)) AS ts_ts9, TRY_CAST(iso AS TIMESTAMP) AS iso_ts,
  TRY_CAST(iso AS DATE) AS iso_date, TRY_CAST(bad AS INT) AS bad_int, TRY_CAST(neg AS DOUBLE) AS neg_dbl, TRY_CAST(neg AS INT) AS neg_int,
  TRY_CAST(neg AS DECIMAL(5,2)) AS neg_dec, TRY_CAST(s AS TINYINT) AS s_tiny, TRY_CAST(ts AS TIME) AS ts_time,
  TRY_CAST(n AS FLOAT) AS n_flt, TRY_CAST(s AS SMALLINT) AS s_small, TRY_CAST(x AS BIGINT) AS x_big,
  TRY_CAST(f AS TIMESTAMP_LTZ(3)) AS f_ltz, TRY_CAST(iso AS TIMESTAMP_LTZ(3)) AS iso_ltz
FROM t;
