-- hint_options: an OPTIONS table hint merges dynamic options over the table's WITH options for this reference
-- (the sequence's bounds are replaced, its kind and the row limit stay); the hint sits between name and alias

CREATE TABLE g (
  id BIGINT,
  v INT
) WITH ('connector' = 'datagen', 'number-of-rows' = '10', 'fields.id.kind' = 'sequence',
        'fields.id.start' = '1', 'fields.id.end' = '100', 'fields.v.min' = '1', 'fields.v.max' = '1');

SELECT x.id, x.id * 2 AS twice, x.v
FROM g /*+ OPTIONS('fields.id.start' = '50', 'fields.id.end' = '54') */ AS x;
