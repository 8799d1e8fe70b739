-- foundations/01_create_table/01_create_table.md (ververica/flink-sql-cookbook, Apache-2.0)
CREATE TABLE orders (
    order_uid  BIGINT,
    product_id BIGINT,
    price      DECIMAL(32, 2),
    order_time TIMESTAMP(3)
) WITH (
    'connector' = 'datagen'
);

SELECT * FROM orders;
