-- lateral_topn: a LATERAL subquery correlated by an equality, with ORDER BY .. LIMIT: the top rows per outer key
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT K.k, T.v FROM (SELECT DISTINCT k FROM events) K, LATERAL (SELECT v FROM events WHERE k = K.k ORDER BY v DESC LIMIT 2) T;
