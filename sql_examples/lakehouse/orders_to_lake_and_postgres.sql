-- Orders from Kafka: per-minute revenue per category into an Iceberg table (exactly once, one snapshot per
-- checkpoint), and each user's running total upserted into PostgreSQL. Run sql_examples/lakehouse/setup.sh
-- and postgres.sql first (see the README's "Kafka -> Iceberg and PostgreSQL" section).
SET 'execution.checkpointing.interval' = '10 s';
SET 'execution.checkpointing.dir' = '/tmp/sqlstream-lake/checkpoints';

CREATE TABLE orders (
  order_id BIGINT, user_id STRING, category STRING, amount DECIMAL(10, 2), ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka', 'topic' = 'orders', 'properties.bootstrap.servers' = 'localhost:9092',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json',
  'scan.bounded.mode' = 'latest-offset'  -- ends with what the topic holds now; remove to keep following it
);

CREATE CATALOG lake WITH ('type' = 'iceberg', 'catalog-type' = 'sql',
  'uri' = 'sqlite:////tmp/sqlstream-lake/catalog.db', 'warehouse' = 'file:///tmp/sqlstream-lake/warehouse');
CREATE DATABASE IF NOT EXISTS lake.shop;
CREATE TABLE IF NOT EXISTS lake.shop.category_revenue (
  category STRING, window_start TIMESTAMP(3), window_end TIMESTAMP(3), orders BIGINT, revenue DECIMAL(12, 2)
) PARTITIONED BY (category);

CREATE TABLE user_totals (
  user_id STRING, orders BIGINT, revenue DECIMAL(12, 2), PRIMARY KEY (user_id) NOT ENFORCED
) WITH (
  'connector' = 'jdbc', 'url' = 'jdbc:postgresql://localhost:5432/postgres', 'table-name' = 'user_totals',
  'username' = 'postgres'
);

EXECUTE STATEMENT SET BEGIN
INSERT INTO lake.shop.category_revenue
SELECT category, window_start, window_end, COUNT(*), CAST(SUM(amount) AS DECIMAL(12, 2))
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY category, window_start, window_end;
INSERT INTO user_totals
SELECT user_id, COUNT(*), CAST(SUM(amount) AS DECIMAL(12, 2)) FROM orders GROUP BY user_id;
END;
