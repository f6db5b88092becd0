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
tls_port=${HELIOS_GATEWAY_TLS_PORT:-8443}
cat <<MSG

Helios is up in $((SECONDS - started))s. Send a bid:
  curl -s -XPOST localhost:$port/bid -H 'content-type: application/json' \\
       -d '{"request_id":"r1","user_id":"user-001"}'
Read it back a moment later (the analytics API needs a bearer token; \`.venv/bin/helios token\` prints one):
  curl -s -H "authorization: Bearer \$(.venv/bin/helios token)" 'localhost:$port/api/outcomes?user_id=user-001'
HTTPS, verified against the local CA:
  curl -s --cacert $STATE/tls/ca.pem -H "authorization: Bearer \$(.venv/bin/helios token)" https://localhost:$tls_port/api/outcomes/stats
Dashboard (the link carries a token valid for a day): http://localhost:$port/#token=$(helios token)
gRPC: grpcurl -plaintext localhost:50052 list
Logs: $STATE/logs/   Stop everything: make down
MSG
