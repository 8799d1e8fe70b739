-- The Kafka connector's own example from Flink's documentation, unchanged: CSV records with the Kafka
-- message timestamp as a metadata column. Needs a broker at localhost:9092 and a topic 'user_behavior'.

CREATE TABLE KafkaTable (
  `user_id` BIGINT,
  `item_id` BIGINT,
  `behavior` STRING,
  `ts` TIMESTAMP(3) METADATA FROM 'timestamp'
) WITH (
  'connector' = 'kafka',
  'topic' = 'user_behavior',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'testGroup',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'csv'
);

SELECT behavior, COUNT(*) AS events, COUNT(DISTINCT user_id) AS users
FROM KafkaTable
GROUP BY behavior;
