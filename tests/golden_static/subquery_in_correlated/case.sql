-- subquery_in_correlated: x IN (SELECT y FROM r WHERE r.k = outer.k): a semi join on the value and the correlation
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, a FROM L WHERE v IN (SELECT w / 10 FROM R WHERE R.k = L.k);
