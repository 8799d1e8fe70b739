-- agg_avg_bigint_wraps: AVG and SUM of BIGINT past the type's range in an updating GROUP BY (each -U equals the row it retracts)
CREATE TABLE t (k INT, b BIGINT) WITH ('connector'='filesystem','path'='${DATA}/t.json','format'='json');
SELECT k, AVG(b) AS a, SUM(b) AS s, COUNT(b) AS c FROM t GROUP BY k;
