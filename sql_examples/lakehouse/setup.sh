#!/usr/bin/env bash
# Creates the 'orders' topic (TOPIC names another) and produces data/orders.json to it (one record per line,
# spread over 2 partitions), and the folder of the Iceberg catalog and warehouse. The broker is localhost:9092
# unless BOOTSTRAP says otherwise, the folder /tmp/sqlstream-lake unless LAKE does. The PostgreSQL table is made by
# postgres.sql (psql -f).
set -euo pipefail
cd "$(dirname "$0")"
kafka() { sqlstream kafka --bootstrap-servers "${BOOTSTRAP:-localhost:9092}" "$@"; }
mkdir -p "${LAKE:-/tmp/sqlstream-lake}"
kafka create "${TOPIC:-orders}" --partitions 2
kafka produce "${TOPIC:-orders}" data/orders.json
