-- The serving table the job upserts into: one row per user, its running order count and revenue.
CREATE TABLE IF NOT EXISTS user_totals (user_id TEXT PRIMARY KEY, orders BIGINT, revenue NUMERIC(12, 2));
