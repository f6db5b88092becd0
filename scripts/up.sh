#!/usr/bin/env bash
# `make up`: everything, locally, in the background: install what is missing, start Kafka,
# PostgreSQL and Redis, create topics and schema, seed demo profiles, start the four services
# and the Envoy gateway, wait until all are healthy.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
started=$SECONDS
bash "$ROOT/scripts/install.sh"
bash "$ROOT/scripts/infra.sh" start
step "creating Kafka topics, migrating the database, seeding demo profiles"
helios create-topics
helios migrate
helios seed-profiles
bash "$ROOT/scripts/services.sh" start
port=${HELIOS_GATEWAY_PORT:-8080}
cat <<MSG

Helios is up in $((SECONDS - started))s. Send a bid:
  curl -s -XPOST localhost:$port/bid -H 'content-type: application/json' \\
       -d '{"request_id":"r1","user_id":"user-001"}'
Read it back a moment later:
  curl -s 'localhost:$port/api/outcomes?user_id=user-001'
Dashboard: http://localhost:$port/   gRPC: grpcurl -plaintext localhost:50052 list
Logs: $STATE/logs/   Stop everything: make down
MSG
