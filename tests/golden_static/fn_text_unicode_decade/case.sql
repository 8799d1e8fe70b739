-- fn_text_unicode_decade: POSITION / INSTR / REGEXP_INSTR count characters, not UTF-8 bytes, after a non-ASCII
-- character; ASCII of a non-ASCII character is its first UTF-8 byte as a signed byte; UPPER maps 'ß' to 'SS';
-- FLOOR/CEIL .. TO DECADE (was a KeyError)
CREATE TABLE t (u STRING, ts TIMESTAMP(3)) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT u, POSITION('l' IN u) AS pos_l, POSITION('ö' IN u) AS pos_o, INSTR(u, ' ') AS instr_sp, REGEXP_INSTR(u, '[a-z]{3}') AS rx_instr,
  LOCATE('a', u, 3) AS loc_a, ASCII(u) AS asc, UPPER(u) AS up, FLOOR(ts TO DECADE) AS fl_dec, CEIL(ts TO DECADE) AS ce_dec
FROM t;
