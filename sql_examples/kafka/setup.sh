#!/usr/bin/env bash
# Creates the topics the three Kafka examples read and write, and produces their sample records
# (data/ beside this script). The broker is localhost:9092 unless BOOTSTRAP says otherwise.
set -euo pipefail
cd "$(dirname "$0")"
kafka() { sqlstream kafka --bootstrap-servers "${BOOTSTRAP:-localhost:9092}" "$@"; }

# 01: CSV records; the Kafka message timestamp is the event time
kafka create user_behavior_csv --partitions 1
kafka produce user_behavior_csv data/user_behavior.csv
# 02: JSON records spread over 2 partitions (each partition has its own watermark)
kafka create user_behavior --partitions 2
kafka produce user_behavior data/user_behavior.json
# 03: JSON page views in, per-region counts out to a compacted (upsert) topic
kafka create pageviews --partitions 2
kafka produce pageviews data/pageviews.json
kafka create pageviews_per_region --partitions 1
