-- fn_cast_int_spaces_only: text to an integer type trims spaces only (a tab or newline makes it no number); DECIMAL trims all whitespace
CREATE TABLE t (i INT, s STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT i, TRY_CAST(s AS INT) AS s_int, TRY_CAST(s AS BIGINT) AS s_big, TRY_CAST(s AS TINYINT) AS s_tiny, TRY_CAST(s AS SMALLINT) AS s_small, TRY_CAST(s AS DECIMAL(5,2)) AS s_dec FROM t;
