-- json_nested_bad_double_ignore: with json.ignore-parse-errors, a nested DOUBLE, TIME or TIMESTAMP_LTZ (in a ROW,
-- an ARRAY, a MAP's values) whose JSON value does not convert is NULL and the row stays
CREATE TABLE t (id INT, r ROW<d DOUBLE, t TIME, l TIMESTAMP_LTZ(3)>, a ARRAY<DOUBLE>, m MAP<STRING, TIME>) WITH ('connector'='filesystem','path'='${DATA}/d.json','format'='json','json.ignore-parse-errors'='true');
SELECT id, r.d, r.t, r.l, a, m['k'] AS mk, m['j'] AS mj FROM t;
