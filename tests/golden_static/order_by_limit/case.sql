-- order_by_limit: ORDER BY .. LIMIT n on a stream is a global Top-N: an updating result
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v FROM events ORDER BY v DESC LIMIT 3;
