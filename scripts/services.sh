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

# The gRPC ports (50051-50054, and 50152... for more bidders) lie in Linux's ephemeral range,
# and the kernel hands out neighbouring ports to outgoing connections (to Kafka, for one): a
# service then fails to bind its port. Reserved ports are never picked for outgoing connections;
# reserving needs root (it is the machine's setting until reboot), else we only warn.
reserve_ports() {  # ports...
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports before wanted
  before=$(cat "$file" 2>/dev/null) || return 0
  wanted=$(IFS=,; echo "$*")
  if { echo "${before:+$before,}$wanted" >"$file"; } 2>/dev/null; then
    [[ $(cat "$file") != "$before" ]] && echo "reserved ports $wanted (net.ipv4.ip_local_reserved_ports)"
  else
    echo "warning: cannot reserve ports $wanted from the ephemeral range (needs root); an outgoing connection may take one"
  fi
  return 0
}

# Fails clearly when something holds the gRPC port a service is about to bind.
check_port() {  # name, port
  running "$1" && return 0
  local held
  held=$(ss -Htanp "sport = :$2" 2>/dev/null | grep -v TIME-WAIT | head -n 3 || true)
  [[ -z $held ]] && return 0
  die "port $2 for $1 is in use:
$held
(ports 50051-50054 lie in the ephemeral range $(tr '\t' '-' </proc/sys/net/ipv4/ip_local_port_range), so an outgoing connection may hold it for a while: retry, or move $1 with HELIOS_${1^^}_GRPC_PORT)"
}

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
    # Each process's gRPC port, derived once: reserved, checked, launched and health-checked.
    declare -A port_of=([profiles]=${HELIOS_PROFILES_GRPC_PORT:-50051}
                        [auction]=${HELIOS_AUCTION_GRPC_PORT:-50053}
                        [analytics]=${HELIOS_ANALYTICS_GRPC_PORT:-50054})
    for ((i = 0; i < BIDDERS; i++)); do port_of[$(bidder_name "$i")]=$((BIDDER_PORT + 100 * i)); done
    reserve_ports "${port_of[@]}"
    for svc in profiles auction analytics; do
      check_port "$svc" "${port_of[$svc]}"
      launch "$svc" helios serve "$svc"
    done
    for ((i = 0; i < BIDDERS; i++)); do
      port=${port_of[$(bidder_name "$i")]}
      targets+=("127.0.0.1:$port")
      check_port "$(bidder_name "$i")" "$port"
      HELIOS_BIDDER_GRPC_PORT=$port HELIOS_BIDDER_METRICS_PORT=$((BIDDER_METRICS + 100 * i)) \
        launch "$(bidder_name "$i")" helios serve bidder
    done
    step "waiting for the services' gRPC health checks"
    helios wait-healthy --timeout 60 \
      "127.0.0.1:${port_of[profiles]}" "${targets[@]}" \
      "127.0.0.1:${port_of[auction]}" "127.0.0.1:${port_of[analytics]}" \
      || { for f in "$STATE"/logs/{profiles,bidder*,auction,analytics}.log; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }
    step "the gateway's local credentials (TLS certificate, token signing key), where missing"
    helios credentials
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
