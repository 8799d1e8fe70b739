-- json_missing_nested_field_fails: json.fail-on-missing-field also fails on a field missing inside a ROW, naming the ROW
CREATE TABLE t (id INT, r ROW<a INT, b STRING>) WITH ('connector' = 'filesystem', 'path' = '${DATA}/t.json', 'format' = 'json', 'json.fail-on-missing-field' = 'true');

SELECT id, r.a, r.b FROM t;
