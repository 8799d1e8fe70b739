-- subquery_in_under_or: IN / NOT IN subqueries under OR and NOT in WHERE are values of the row (three-valued, NULLs on both sides), uncorrelated and correlated
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT id, k, v FROM events e
WHERE v > 8
   OR k IN (SELECT k FROM dims WHERE w > 20)
   OR (v < 5 AND k NOT IN (SELECT k FROM dims WHERE w < 20))
   OR NOT (k IN (SELECT k FROM dims WHERE w >= 10 AND k IS NOT NULL) OR v < 8)
   OR v IN (SELECT w / 5 FROM dims d WHERE d.k = e.k);
