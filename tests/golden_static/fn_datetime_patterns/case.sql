-- fn_datetime_patterns: DateTimeFormatter letters in DATE_FORMAT(TIMESTAMP) and TO_TIMESTAMP, SimpleDateFormat in
-- DATE_FORMAT(STRING), FROM_UNIXTIME and UNIX_TIMESTAMP; EXTRACT units; BETWEEN SYMMETRIC; OVERLAY; REGEXP_EXTRACT with
-- two arguments; TIMESTAMP(9) values; a watermark on a TIMESTAMPADD computed column
CREATE TABLE t (
  id INT, ts TIMESTAMP(3), s STRING, s9 STRING, n BIGINT, lo INT, hi INT, word STRING, p INT, l INT,
  wts AS TIMESTAMPADD(SECOND, id, TIMESTAMP '2024-01-01 00:00:00'),
  WATERMARK FOR wts AS wts
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT id, wts,
  DATE_FORMAT(ts, 'YYYY-ww w W u E EEEE MMM MMMM a hh kk KK D F G') AS f_letters,
  DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss.SSS S SS') AS f_fraction,
  DATE_FORMAT(ts, '''at'' h:mm a, dd/MM/yy') AS f_quoted,
  DATE_FORMAT(s, 'u F YYYY-ww yyyy-MM-dd HH:mm:ss.SSS') AS f_string,
  FROM_UNIXTIME(n) AS fu_default, FROM_UNIXTIME(n, 'u F E yyyy-MM-dd hh:mm a') AS fu_letters,
  UNIX_TIMESTAMP(s, 'yyyy-MM-dd HH:mm:ss.SSS') AS ut_millis, UNIX_TIMESTAMP(s) AS ut_default,
  UNIX_TIMESTAMP(s, 'yyyy-MM-dd') AS ut_prefix,
  EXTRACT(MILLISECOND FROM ts) AS e_ms, EXTRACT(MICROSECOND FROM ts) AS e_us, EXTRACT(NANOSECOND FROM ts) AS e_ns,
  EXTRACT(EPOCH FROM ts) AS e_epoch, EXTRACT(DOW FROM ts) AS e_dow, EXTRACT(DOY FROM ts) AS e_doy,
  EXTRACT(WEEK FROM ts) AS e_week, EXTRACT(QUARTER FROM ts) AS e_quarter, EXTRACT(CENTURY FROM ts) AS e_century,
  EXTRACT(DECADE FROM ts) AS e_decade, EXTRACT(MILLENNIUM FROM ts) AS e_millennium, EXTRACT(ISODOW FROM ts) AS e_isodow,
  EXTRACT(ISOYEAR FROM ts) AS e_isoyear, DAYOFWEEK(ts) AS dow, DAYOFYEAR(ts) AS doy, WEEK(ts) AS wk,
  id BETWEEN SYMMETRIC lo AND hi AS b_sym, id NOT BETWEEN SYMMETRIC lo AND hi AS b_not_sym, id BETWEEN lo AND hi AS b_asym,
  OVERLAY(word PLACING 'XY' FROM p) AS o_from, OVERLAY(word PLACING 'XY' FROM p FOR l) AS o_for,
  REGEXP_EXTRACT(word, '[a-c]+') AS re_whole, REGEXP_EXTRACT(s, '(\d+)-(\d+)') AS re_groups,
  REGEXP_EXTRACT(s, '(\d+)-(\d+)', 2) AS re_group2,
  CAST(CAST(s9 AS TIMESTAMP(9)) AS STRING) AS ts9, EXTRACT(NANOSECOND FROM CAST(s9 AS TIMESTAMP(9))) AS ts9_ns,
  DATE_FORMAT(CAST(s9 AS TIMESTAMP(9)), 'ss.SSSSSSSSS') AS ts9_fmt,
  CAST(TIMESTAMPADD(SECOND, 1, CAST(s9 AS TIMESTAMP(9))) AS STRING) AS ts9_add,
  CAST(CAST(s9 AS TIMESTAMP(6)) AS STRING) AS ts6, CAST(CAST(ts AS TIMESTAMP(0)) AS STRING) AS ts0,
  CAST(CAST(ts AS TIMESTAMP(1)) AS STRING) AS ts1,
  TO_TIMESTAMP(s, 'yyyy-MM-dd HH:mm:ss.SSS') AS tt_pattern, TO_TIMESTAMP(s) AS tt_default,
  TO_TIMESTAMP(DATE_FORMAT(ts, 'dd MMM yyyy hh:mm a'), 'dd MMM yyyy hh:mm a') AS tt_text
FROM t;
