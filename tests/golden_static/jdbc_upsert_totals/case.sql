-- jdbc_upsert_totals: the updating per-user GROUP BY that tests/test_jdbc_upsert_golden.py writes into PostgreSQL by upsert; its final table must equal the final rows of this changelog
CREATE TABLE orders (order_id BIGINT, user_id STRING, amount DECIMAL(10, 2), ts TIMESTAMP(3)) WITH ('connector'='filesystem','path'='${DATA}/orders.json','format'='json');
SELECT user_id, COUNT(*) AS orders, SUM(amount) AS revenue, MAX(amount) AS biggest, MAX(ts) AS last_ts FROM orders WHERE amount > 1 GROUP BY user_id;
