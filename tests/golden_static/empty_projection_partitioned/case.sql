-- empty_projection_partitioned: only the partition column is read, so the files' own columns are not decoded

CREATE TABLE p (
  id BIGINT,
  v STRING,
  dt STRING
) PARTITIONED BY (dt) WITH ('connector' = 'filesystem', 'path' = '${DATA}/p', 'format' = 'json');

SELECT dt, COUNT(*) AS n FROM p GROUP BY dt;
