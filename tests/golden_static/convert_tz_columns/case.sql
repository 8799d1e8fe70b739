-- convert_tz_columns: CONVERT_TZ with the time zone taken from a column, and with NULLs
CREATE TABLE events (ts STRING, zone STRING) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT ts, zone, CONVERT_TZ(ts, zone, 'UTC') AS utc, CONVERT_TZ(ts, 'UTC', zone) AS back FROM events;
