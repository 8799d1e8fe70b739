-- join_using_left_qualified: LEFT JOIN .. USING (k) then JOIN .. USING (k) again: unqualified k is the left side's, each side's k stays reachable with its qualifier, and GROUP BY k reads the merged one
CREATE TABLE events (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE TABLE dims (k STRING, w INT) WITH ('connector'='filesystem','path'='${DATA}/dims.json','format'='json');
SELECT k, COUNT(e.k) AS ek, COUNT(d.k) AS dk, SUM(d2.w) AS w2 FROM events e LEFT JOIN dims d USING (k) JOIN dims d2 USING (k) GROUP BY k;
