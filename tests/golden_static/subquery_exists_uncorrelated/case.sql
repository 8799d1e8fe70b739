-- subquery_exists_uncorrelated: an uncorrelated EXISTS: every row once the subquery has a row
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k FROM L WHERE EXISTS (SELECT 1 FROM R WHERE w > 300);
