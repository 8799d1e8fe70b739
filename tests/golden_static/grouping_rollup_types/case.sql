-- grouping_rollup_types: ROLLUP with GROUPING (BIGINT NOT NULL in Flink, as GROUPING_ID) over NULL keys
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
SELECT k, a, SUM(v) AS s, COUNT(*) AS c, GROUPING(k) AS gk, GROUPING_ID(k, a) AS gid FROM L GROUP BY ROLLUP(k, a);
