-- fn_null_divided_by_zero: a NULL integer divided by zero is NULL, as Flink checks NULL first; only a value
-- divided by zero fails the job
CREATE TABLE t (k INT, i INT, bi BIGINT)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json');
SELECT k, i / 0 AS div0, bi / (k - 1) AS div_k, i / 2 AS half
FROM t WHERE k = 1;
