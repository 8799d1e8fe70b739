-- json_timestamp_fraction_digits: JSON timestamps with more fraction digits than the column's precision, before and after 1970
CREATE TABLE d (id INT, ts TIMESTAMP(3), ts0 TIMESTAMP(0), ts6 TIMESTAMP(6)) WITH ('connector'='filesystem','path'='${DATA}/d.json','format'='json');
SELECT id, ts, CAST(ts AS STRING) AS s, ts0, CAST(ts0 AS STRING) AS s0, ts6, CAST(ts6 AS STRING) AS s6,
  EXTRACT(MILLISECOND FROM ts) AS ms, UNIX_TIMESTAMP(CAST(ts AS STRING)) AS u
FROM d;
