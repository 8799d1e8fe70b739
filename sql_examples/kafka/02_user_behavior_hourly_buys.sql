-- "Flink SQL Demo: Building an End-to-End Streaming Application": user behaviour events as JSON in Kafka,
-- with an event-time watermark and a processing-time column; hourly buy counts with a legacy TUMBLE window.
-- Needs a broker at localhost:9092 and a topic 'user_behavior'.

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
    'format' = 'json'  -- the data format is json
);

SELECT HOUR(TUMBLE_START(ts, INTERVAL '1' HOUR)) AS hour_of_day, COUNT(*) AS buy_cnt
FROM user_behavior
WHERE behavior = 'buy'
GROUP BY TUMBLE(ts, INTERVAL '1' HOUR);
