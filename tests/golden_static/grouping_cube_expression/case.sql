-- grouping_cube_expression: CUBE of a column and an expression (a IS NULL), GROUPING of the expression
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, a IS NULL AS an, COUNT(v) AS c, GROUPING(a IS NULL) AS ga FROM L GROUP BY CUBE(k, a IS NULL);
