-- subquery_not_exists_uncorrelated: an uncorrelated NOT EXISTS over a subquery without rows: every row
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k FROM L WHERE NOT EXISTS (SELECT 1 FROM R WHERE w > 1000);
