-- subquery_in_under_or_empty: an uncorrelated IN under OR is a value joined with the subquery's one-row count, so while the subquery is empty no row passes, even those the other branch admits
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT id, k, v FROM events e WHERE v > 8 OR v IN (SELECT w FROM dims WHERE w > 1000);
