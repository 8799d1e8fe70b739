-- filesystem_maxwell_changelog: a file of Maxwell JSON events is a changelog: insert, update (before: 'data' with its 'old' fields), delete; malformed lines skipped under ignore-parse-errors
CREATE TABLE t (id INT, name STRING, v DOUBLE) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'maxwell-json', 'maxwell-json.ignore-parse-errors' = 'true');

SELECT id, name, v FROM t;
