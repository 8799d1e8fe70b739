-- empty_projection_datagen: the number of rows comes from a sequence column the query does not read, and the
-- options of unread columns are accepted (valid DDL does not depend on the projection)

CREATE TABLE g (
  id BIGINT,
  v INT,
  s STRING
) WITH ('connector' = 'datagen', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '40',
        'fields.v.min' = '1', 'fields.v.max' = '9', 'fields.s.length' = '3', 'rows-per-second' = '100000');

SELECT COUNT(*) AS n, 'x' AS k FROM g;
