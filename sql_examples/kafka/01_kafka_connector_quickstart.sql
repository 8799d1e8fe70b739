-- The Kafka connector's own example from Flink's documentation: CSV records with the Kafka message timestamp as
-- a metadata column. The topic is 'user_behavior_csv' (Flink's page says 'user_behavior', which example 02 reads
-- as JSON). Needs a broker at localhost:9092; sql_examples/kafka/setup.sh creates the topic and its records.

CREATE TABLE KafkaTable (
  `user_id` BIGINT,
  `item_id` BIGINT,
  `behavior` STRING,
  `ts` TIMESTAMP(3) METADATA FROM 'timestamp'
) WITH (
  'connector' = 'kafka',
  'topic' = 'user_behavior_csv',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'testGroup',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'csv'
);

SELECT behavior, COUNT(*) AS events, COUNT(DISTINCT user_id) AS users
FROM KafkaTable
GROUP BY behavior;
