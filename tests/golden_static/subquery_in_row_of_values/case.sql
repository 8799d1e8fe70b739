-- subquery_in_row_of_values: (k, v) IN (SELECT k, w / 10 ..): a semi join on both values
CREATE TABLE L (k INT, a STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/L.json','format'='json');
CREATE TABLE R (k INT, b STRING, w INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/R.json','format'='json');
SELECT k, a FROM L WHERE (k, v) IN (SELECT k, w / 10 FROM R);
