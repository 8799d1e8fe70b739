-- fn_string_more: REGEXP_EXTRACT, SPLIT_INDEX, SUBSTRING forms, LIKE, REPLACE, CHAR_LENGTH on NULL, IS DISTINCT FROM

CREATE TABLE clicks (
  user_id STRING,
  url STRING,
  referrer STRING,
  duration_s INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.json', 'format' = 'json');

SELECT user_id, url,
       REGEXP_EXTRACT(url, '/products/([a-z]+)', 1) AS prod, SPLIT_INDEX(url, '/', 1) AS seg1,
       SPLIT_INDEX(url, '?', 1) AS query, SUBSTRING(url FROM 2 FOR 4) AS sub, SUBSTRING(url, 3) AS tail,
       url LIKE '%/products/%' AS is_product, url NOT LIKE '/c%' AS not_c, CHAR_LENGTH(referrer) AS ref_len,
       REPLACE(url, '/', '.') AS dotted, referrer IS DISTINCT FROM 'google' AS not_google,
       UPPER(SUBSTRING(user_id, 2)) AS num, COALESCE(referrer, url) AS src,
       CASE WHEN duration_s IS NULL THEN -1 WHEN duration_s > 300 THEN 2 ELSE 1 END AS bucket
FROM clicks
WHERE duration_s IS NULL OR duration_s < 200;
