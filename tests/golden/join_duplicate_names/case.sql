-- join_duplicate_names: a join whose SELECT repeats column names (Flink names the second dateTime dateTime0), as nexmark q20

CREATE TABLE bid (
  auction BIGINT,
  bidder BIGINT,
  price BIGINT,
  channel STRING,
  url STRING,
  `dateTime` TIMESTAMP(3),
  extra STRING,
  WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/bid.json', 'format' = 'json');

CREATE TABLE auction (
  id BIGINT,
  itemName STRING,
  description STRING,
  initialBid BIGINT,
  reserve BIGINT,
  `dateTime` TIMESTAMP(3),
  expires TIMESTAMP(3),
  seller BIGINT,
  category BIGINT,
  extra STRING,
  WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/auction.json', 'format' = 'json');

SELECT auction, bidder, price, B.`dateTime`, B.extra, itemName, A.`dateTime`, seller, A.extra, A.`dateTime` AS `dateTime0`
FROM bid AS B INNER JOIN auction AS A ON B.auction = A.id
WHERE A.category = 10;
