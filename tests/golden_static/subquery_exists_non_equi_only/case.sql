-- subquery_exists_non_equi_only: EXISTS correlated by a comparison alone (a semi join without keys)
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, v FROM L WHERE EXISTS (SELECT 1 FROM R WHERE R.w > L.v * 10);
