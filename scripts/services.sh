#!/usr/bin/env bash
# Starts and stops the Helios services and the Envoy gateway as background processes, by pid
# files under $STATE/pids. Infrastructure is scripts/infra.sh's job.
#   scripts/services.sh start | stop | status
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
mkdir -p "$STATE/pids" "$STATE/logs"

# Several bidder processes, each on its own port and listed as its own Envoy endpoint (Envoy
# keeps one HTTP/2 connection per worker, so processes sharing a port get uneven load).
BIDDERS=${HELIOS_BIDDER_PROCESSES:-1}
BIDDER_PORT=${HELIOS_BIDDER_GRPC_PORT:-50052}
BIDDER_METRICS=${HELIOS_BIDDER_METRICS_PORT:-9102}

bidder_name() { if (($1 == 0)); then echo bidder; else echo "bidder-$(($1 + 1))"; fi; }
all_names() {
  echo envoy profiles auction analytics
  for f in "$STATE"/pids/bidder*.pid; do [[ -e $f ]] && basename "$f" .pid; done
  for ((i = 0; i < BIDDERS; i++)); do bidder_name "$i"; done
}

running() { [[ -f "$STATE/pids/$1.pid" ]] && kill -0 "$(cat "$STATE/pids/$1.pid")" 2>/dev/null; }

launch() {  # name, command...
  local name=$1; shift
  if running "$name"; then echo "$name already running (pid $(cat "$STATE/pids/$name.pid"))"; return; fi
  setsid nohup "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name.pid"
  echo "started $name (pid $!, log $STATE/logs/$name.log)"
}

stop_one() {
  local name=$1 pid
  running "$name" || { rm -f "$STATE/pids/$name.pid"; return 0; }
  pid=$(cat "$STATE/pids/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "$name did not stop in 10s: SIGKILL"; kill -KILL "$pid" || true; }
  rm -f "$STATE/pids/$name.pid"
  echo "stopped $name"
}

case "${1:-status}" in
  start)
    targets=()
    for svc in profiles auction analytics; do launch "$svc" helios serve "$svc"; done
    for ((i = 0; i < BIDDERS; i++)); do
      port=$((BIDDER_PORT + 100 * i))
      targets+=("127.0.0.1:$port")
      HELIOS_BIDDER_GRPC_PORT=$port HELIOS_BIDDER_METRICS_PORT=$((BIDDER_METRICS + 100 * i)) \
        launch "$(bidder_name "$i")" helios serve bidder
    done
    step "waiting for the services' gRPC health checks"
    helios wait-healthy --timeout 60 \
      "127.0.0.1:${HELIOS_PROFILES_GRPC_PORT:-50051}" "${targets[@]}" \
      "127.0.0.1:${HELIOS_AUCTION_GRPC_PORT:-50053}" "127.0.0.1:${HELIOS_ANALYTICS_GRPC_PORT:-50054}" \
      || { for f in "$STATE"/logs/{profiles,bidder*,auction,analytics}.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
    step "rendering and validating the gateway config"
    HELIOS_GATEWAY_BIDDER_TARGETS=$(IFS=,; echo "${targets[*]}") \
      helios render-gateway --out "$STATE/envoy.yaml"
    # Envoy 1.40 sets PR_SET_PDEATHSIG(SIGTERM): it stops when its parent exits, so it gets a
    # parent that lives as long as it does and passes SIGTERM on (make down signals that one).
    launch envoy bash -c 'trap "kill -TERM \$child 2>/dev/null; wait \$child" TERM INT
                          "$@" & child=$!; wait $child' envoy-parent \
      envoy -c "$STATE/envoy.yaml" --log-level warn
    gateway="http://localhost:${HELIOS_GATEWAY_PORT:-8080}"
    for _ in $(seq 1 150); do
      curl -fsS -o /dev/null "$gateway/healthz" 2>/dev/null && break
      running envoy || { tail -n 30 "$STATE/logs/envoy.log"; die "envoy exited"; }
      sleep 0.2
    done
    curl -fsS -o /dev/null "$gateway/healthz" || { tail -n 30 "$STATE/logs/envoy.log"; die "gateway $gateway/healthz not 200 after 30s"; }
    ;;
  stop)
    for name in $(all_names | awk '!seen[$0]++'); do stop_one "$name"; done
    ;;
  status)
    for name in $(all_names | awk '!seen[$0]++'); do
      if running "$name"; then echo "$name: running (pid $(cat "$STATE/pids/$name.pid"))"; else echo "$name: stopped"; fi
    done
    ;;
  *) die "usage: scripts/services.sh start|stop|status" ;;
esac
