-- filesystem_debezium_count_update_without_before: an update event without its 'before' image fails the job also where no column of it is read
CREATE TABLE t (id INT, name STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'debezium-json');

SELECT COUNT(*) AS n FROM t;
