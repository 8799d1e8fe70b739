-- "Flink SQL Demo: Building an End-to-End Streaming Application": user behaviour events as JSON in Kafka,
-- with an event-time watermark and a processing-time column; hourly buy counts with a legacy TUMBLE window.
-- Each partition of the topic has its own watermark and the table's is their minimum, so a partition that never
-- gets a record would hold every window open forever; 'scan.watermark.idle-timeout' lets a partition silent for
-- that long stop holding it back (the SQL-wide form is SET 'table.exec.source.idle-timeout').
-- Needs a broker at localhost:9092; sql_examples/kafka/setup.sh creates the topic (2 partitions) and its records.

CREATE TABLE user_behavior (
    user_id BIGINT,
    item_id BIGINT,
    category_id BIGINT,
    behavior STRING,
    ts TIMESTAMP(3),
    proctime AS PROCTIME(),   -- generates processing-time attribute using computed column
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND  -- defines watermark on ts column, marks ts as event-time attribute
) WITH (
    'connector' = 'kafka',  -- using kafka connector
    'topic' = 'user_behavior',  -- kafka topic
    'scan.startup.mode' = 'earliest-offset',  -- reading from the beginning
    'properties.bootstrap.servers' = 'localhost:9092',  -- kafka broker address
    'scan.watermark.idle-timeout' = '5 s',  -- a partition without data for 5 s no longer holds the watermark
    'format' = 'json'  -- the data format is json
);

SELECT HOUR(TUMBLE_START(ts, INTERVAL '1' HOUR)) AS hour_of_day, COUNT(*) AS buy_cnt
FROM user_behavior
WHERE behavior = 'buy'
GROUP BY TUMBLE(ts, INTERVAL '1' HOUR);
