-- fn_builtin_more: a wider set of built-in functions: temporal parts, math, strings, hashing, casts and predicates

CREATE TABLE orders (
  order_id BIGINT,
  user_id STRING,
  product STRING,
  amount DOUBLE,
  price DECIMAL(10, 2),
  quantity INT,
  status STRING,
  coupon STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/orders.json', 'format' = 'json');

SELECT order_id,
       DAYOFWEEK(ts) AS dow, DAYOFYEAR(ts) AS doy, WEEK(ts) AS wk, QUARTER(ts) AS q, YEAR(ts) AS y,
       CAST(ts AS DATE) AS d, DATE_FORMAT(ts, 'yyyyMMdd HH') AS compact,
       TO_TIMESTAMP_LTZ(order_id * 1000, 3) AS ltz,
       TIMESTAMPDIFF(MINUTE, ts, TIMESTAMP '2024-03-01 10:00:00') AS mins_left,
       ROUND(amount) AS r0, TRUNCATE(amount, 1) AS tr1, POWER(2, quantity) AS p2, LN(amount) AS ln_a,
       LOG10(amount) AS lg, GREATEST(quantity, 5) AS gq, LEAST(quantity, 5) AS lq,
       MD5(user_id) AS md5_user, REPEAT('ab', quantity) AS rep, LEFT(status, 2) AS l2, RIGHT(status, 2) AS r2,
       LPAD(CAST(quantity AS STRING), 3, '0') AS padded, IFNULL(coupon, 'none') AS cpn,
       price / 3 AS third, -price AS neg, ABS(-price) AS abs_p, CEIL(price) AS ceil_p, FLOOR(price) AS floor_p,
       CAST(price AS DECIMAL(5, 1)) AS p51, CAST(amount AS DECIMAL(8, 3)) AS a83, CAST('12.5' AS DOUBLE) AS dbl,
       CAST('2024-01-02' AS DATE) AS lit_date, amount BETWEEN 100 AND 200 AS mid, product IN ('apple', 'fig') AS fruit,
       status NOT IN ('NEW', 'PAID') AS other, UPPER(SUBSTR(product, 2)) AS sub2, CHAR_LENGTH(coupon) AS clen,
       REGEXP_REPLACE(user_id, 'u0*', 'user-') AS uname, SPLIT_INDEX(CONCAT_WS(',', product, status), ',', 1) AS st
FROM orders
WHERE MOD(order_id, 10) = 3;
