-- hint_join_strategies_state_ttl: join strategy hints, LOOKUP on a regular join and STATE_TTL on a join's inputs and on an aggregation change no rows of a streaming job
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT /*+ BROADCAST(d), SHUFFLE_HASH(e, d), LOOKUP('table' = 'd'), STATE_TTL('e' = '1d', 'a' = '12h') */ e.id, e.v, d.w, a.n
FROM events e
JOIN dims d ON e.k = d.k
LEFT JOIN (SELECT /*+ STATE_TTL('events' = '90 min') */ k, COUNT(*) AS n FROM events GROUP BY k) a ON e.k = a.k;
