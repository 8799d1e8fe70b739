-- json_nested_bad_double: a ROW's DOUBLE and TIME whose JSON values do not convert fail the job naming the ROW
CREATE TABLE t (id INT, r ROW<d DOUBLE, t TIME>) WITH ('connector'='filesystem','path'='${DATA}/d.json','format'='json');
SELECT id, r.d, r.t FROM t;
