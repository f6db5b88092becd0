#!/usr/bin/env bash
# Starts, stops and reports the local infrastructure Helios needs: Kafka (KRaft, single node),
# PostgreSQL 15 and Redis 7, as plain processes whose data, logs and pid files live under
# $STATE (.helios/). No Docker, no systemd.
#
#   scripts/infra.sh start  [kafka|postgres|redis ...]   default: all three
#   scripts/infra.sh stop   [kafka|postgres|redis ...]
#   scripts/infra.sh status [kafka|postgres|redis ...]   exit status 1 if any is not answering
#
# Idempotent: starting what already runs only checks that it answers; stopping what is not
# running does nothing. A start returns once the server really serves (bounded wait) and fails
# with the end of the server's log otherwise.
#
# External servers: when one of these is set, that server is not started here, only checked:
#   HELIOS_KAFKA_BOOTSTRAP_SERVERS   e.g. broker1:9092,broker2:9092
#   HELIOS_DATABASE_URL              e.g. postgresql+asyncpg://user:pw@host:5432/db
#   HELIOS_REDIS_URL                 e.g. redis://host:6379/0
# Otherwise the servers started here answer on the documented defaults:
#   Kafka       localhost:9092   (KRaft controller on 127.0.0.1:9093)
#   PostgreSQL  postgresql://helios:helios@localhost:5432/helios
#               TCP (127.0.0.1 only) needs the password (scram-sha-256); the unix socket in
#               .helios/postgres/run trusts any local user, e.g. `psql -h .helios/postgres/run
#               -U postgres` for an administrator session.
#   Redis       redis://localhost:6379/0   (append-only file, fsync every second: see
#               docs/profiles.md, "Durability")
set -euo pipefail
source "$(dirname "$0")/lib.sh"

KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
PG_PORT=5432
REDIS_PORT=6379
PG_BIN=/usr/lib/postgresql/15/bin

LOGS="$STATE/logs"
PIDS="$STATE/pids"
KAFKA_DIR="$STATE/kafka"
PG_DIR="$STATE/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCKET_DIR="$PG_DIR/run"
REDIS_DIR="$STATE/redis"

ALL=(kafka postgres redis)
KAFKA_WAIT=60
PG_WAIT=30
REDIS_WAIT=30

# ---------------------------------------------------------------------------------------------
# Small helpers

# Is something accepting TCP connections on 127.0.0.1:$1?
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Pid of the process listening on TCP port $1, empty when none (or not visible to us).
port_pid() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2; }

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# Pid from pid file $1 if that process is still alive, else empty.
pid_from_file() {
  local pid
  [[ -f "$1" ]] || return 0
  pid=$(tr -dc '0-9' <"$1")
  if alive "$pid"; then echo "$pid"; fi
}

# Pid of one of our servers, empty when it is not running: the pid in pid file $1 if that
# process passes check $3 (pids get reused), else the listener on port $2 if it passes $3.
our_pid() {
  local pidfile=$1 port=$2 is_ours=$3 pid
  pid=$(pid_from_file "$pidfile")
  if [[ -n "$pid" ]] && "$is_ours" "$pid"; then
    echo "$pid"
    return 0
  fi
  pid=$(port_pid "$port")
  if [[ -n "$pid" ]] && "$is_ours" "$pid"; then echo "$pid"; fi
}

# Fails with the last lines of log file $2 after message $1.
fail_with_log() {
  local msg=$1 log=$2
  {
    printf 'error: %s\n' "$msg"
    if [[ -s "$log" ]]; then
      printf -- '--- last 30 lines of %s ---\n' "$log"
      tail -n 30 "$log"
      printf -- '---\n'
    fi
  } >&2
  exit 1
}

# Fills @NAME@ placeholders of template $1 from the NAME=value pairs that follow; writes stdout.
render() {
  local tmpl=$1 kv key val out expr=()
  shift
  for kv in "$@"; do
    key=${kv%%=*} val=${kv#*=}
    val=$(printf '%s' "$val" | sed -e 's/[\\|&]/\\&/g')
    expr+=(-e "s|@${key}@|${val}|g")
  done
  out=$(sed "${expr[@]}" "$tmpl")
  if grep -q '@[A-Z_]*@' <<<"$out"; then die "unfilled placeholder in $tmpl"; fi
  printf '%s\n' "$out"
}

# Sends SIGTERM to pid $2 (service $1), waits up to 30 s, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  step "$name (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  die "$name (pid $pid) survived SIGKILL"
}

# Runs a command as the postgres OS user when we are root (the server refuses to run as root).
# The working directory is / so that postgres never trips over an unreadable cwd.
as_pg() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The postgres user must be able to reach $PG_DIR: every parent directory needs o+x.
make_traversable() {
  ((EUID == 0)) || return 0
  local dir=$1
  while [[ "$dir" != / ]]; do
    dir=$(dirname "$dir")
    if ! runuser -u postgres -- test -x "$dir"; then
      step "chmod o+x $dir (so the postgres user can reach $PG_DIR)"
      chmod o+x "$dir"
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# Kafka

kafka_pidfile="$PIDS/kafka.pid"
kafka_log="$LOGS/kafka.log"
kafka_props="$KAFKA_DIR/server.properties"

# Exit status 0 when the cluster at bootstrap servers $1 answers a metadata request listing at
# least one broker within $2 seconds. confluent_kafka is already in the project's venv and
# answers in ~0.1 s, where a JVM admin tool would take seconds to start.
kafka_answers() {
  "$VENV/bin/python" - "$1" "$2" <<'PY' 2>/dev/null
import sys
from confluent_kafka.admin import AdminClient
bootstrap, timeout = sys.argv[1], float(sys.argv[2])
admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
sys.exit(0 if admin.list_topics(timeout=timeout).brokers else 1)
PY
}

# Is pid $1 our broker? Its command line names our properties file.
kafka_is_ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$kafka_props"; }

# Pid of our Kafka: from the pid file, or (pid file lost) whoever listens on its port, if ours.
kafka_pid() { our_pid "$kafka_pidfile" "$KAFKA_PORT" kafka_is_ours; }

kafka_preflight() {
  command -v java >/dev/null || die "java not found: Kafka needs a Java 17+ runtime (apt-get install default-jre-headless)"
  compgen -G "$KAFKA_HOME/.complete*" >/dev/null || die "Kafka jars missing in $KAFKA_HOME: run scripts/install.sh"
  [[ -x "$VENV/bin/python" ]] || die "no virtualenv in $VENV (its confluent_kafka checks Kafka is ready): run scripts/install.sh"
}

kafka_java() { java -cp "$KAFKA_HOME/libs/*" "$@"; }

kafka_launch() {
  if [[ -n "${HELIOS_KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
    return 0
  fi
  kafka_preflight
  local pid
  pid=$(kafka_pid)
  if [[ -n "$pid" ]]; then
    echo "$pid" >"$kafka_pidfile"
    return 0
  fi
  if port_open "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is taken by another process (pid $(port_pid "$KAFKA_PORT")), not by our Kafka; stop it or set HELIOS_KAFKA_BOOTSTRAP_SERVERS to use it"
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_CONTROLLER_PORT (Kafka's KRaft controller) is taken by another process (pid $(port_pid "$KAFKA_CONTROLLER_PORT"))"
  fi

  mkdir -p "$KAFKA_DIR/data"
  render "$ROOT/scripts/kafka/server.properties.tmpl" \
    KAFKA_PORT="$KAFKA_PORT" KAFKA_CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" \
    KAFKA_DATA_DIR="$KAFKA_DIR/data" >"$kafka_props.new"
  mv "$kafka_props.new" "$kafka_props"

  # Format once; the cluster id is kept so that a reformat (after deleting data/) is the same
  # cluster to anyone who cached it.
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    if [[ ! -s "$KAFKA_DIR/cluster.id" ]]; then
      kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 >"$KAFKA_DIR/cluster.id"
    fi
    step "kafka: formatting storage in $KAFKA_DIR/data (cluster id $(cat "$KAFKA_DIR/cluster.id"))"
    kafka_java -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" \
      kafka.tools.StorageTool format --standalone \
      -t "$(cat "$KAFKA_DIR/cluster.id")" -c "$kafka_props" >>"$kafka_log" 2>&1 ||
      fail_with_log "kafka: formatting storage failed" "$kafka_log"
  fi

  step "kafka: starting on localhost:$KAFKA_PORT (log $kafka_log)"
  printf '\n===== %s infra.sh start kafka =====\n' "$(date -Is)" >>"$kafka_log"
  # Not a group leader here, so setsid execs in place and $! is the JVM's pid. The JVM flags
  # are those of Kafka's own kafka-server-start.sh, minus GC logging.
  setsid nohup java -Xms512m -Xmx1g \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" \
    -Dkafka.logs.dir="$LOGS" \
    -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$kafka_props" \
    </dev/null >>"$kafka_log" 2>&1 9>&- &
  echo $! >"$kafka_pidfile"
}

kafka_wait() {
  if [[ -n "${HELIOS_KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
    kafka_answers "$HELIOS_KAFKA_BOOTSTRAP_SERVERS" 10 ||
      die "kafka: external HELIOS_KAFKA_BOOTSTRAP_SERVERS=$HELIOS_KAFKA_BOOTSTRAP_SERVERS does not answer"
    step "kafka: using external $HELIOS_KAFKA_BOOTSTRAP_SERVERS (answers)"
    return 0
  fi
  local pid deadline=$((SECONDS + KAFKA_WAIT))
  pid=$(pid_from_file "$kafka_pidfile")
  while ((SECONDS < deadline)); do
    alive "$pid" || fail_with_log "kafka: the broker exited during start-up" "$kafka_log"
    if port_open "$KAFKA_PORT" && kafka_answers "localhost:$KAFKA_PORT" 2; then
      step "kafka: ready on localhost:$KAFKA_PORT (pid $pid)"
      return 0
    fi
    sleep 0.5
  done
  fail_with_log "kafka: not ready after ${KAFKA_WAIT}s (pid $pid still running)" "$kafka_log"
}

kafka_stop() {
  local pid
  pid=$(kafka_pid)
  if [[ -n "$pid" ]]; then
    step "kafka: stopping (pid $pid)"
    stop_pid kafka "$pid"
  fi
  rm -f "$kafka_pidfile"
}

kafka_status() {
  if [[ -n "${HELIOS_KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
    if kafka_answers "$HELIOS_KAFKA_BOOTSTRAP_SERVERS" 5; then
      echo "kafka     external  $HELIOS_KAFKA_BOOTSTRAP_SERVERS  answering"
    else
      echo "kafka     external  $HELIOS_KAFKA_BOOTSTRAP_SERVERS  NOT ANSWERING"; return 1
    fi
    return 0
  fi
  local pid
  pid=$(kafka_pid)
  if [[ -z "$pid" ]]; then
    echo "kafka     stopped"; return 1
  elif kafka_answers "localhost:$KAFKA_PORT" 5; then
    echo "kafka     running   localhost:$KAFKA_PORT  pid $pid  data $KAFKA_DIR/data"
  else
    echo "kafka     running   localhost:$KAFKA_PORT  pid $pid  NOT ANSWERING (see $kafka_log)"; return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

pg_log="$LOGS/postgres.log"

pg_ctl() { as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }

# Pid of our postmaster, empty when our cluster is not running.
pg_pid() {
  [[ -f "$PG_DATA/postmaster.pid" ]] || return 0
  local pid
  pid=$(head -n1 "$PG_DATA/postmaster.pid" | tr -dc '0-9')
  if alive "$pid"; then echo "$pid"; fi
}

# psql as the superuser over our unix socket (trusted), reading SQL from stdin.
pg_admin() { psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres; }

# SQLAlchemy URLs name a driver (postgresql+asyncpg://); libpq only knows postgresql://.
libpq_url() { sed -E 's#^postgres(ql)?\+[A-Za-z0-9_]+://#postgresql://#' <<<"$1"; }

# Debian's packaged cluster (pg_ctlcluster 15 main) would hold port 5432; it is not ours.
pg_stop_debian_cluster() {
  command -v pg_lsclusters >/dev/null || return 0
  local ver name port status
  while read -r ver name port status _; do
    if [[ "$port" == "$PG_PORT" && "$status" == online* ]]; then
      step "postgres: stopping Debian's own cluster $ver/$name on port $port (Helios runs its own)"
      pg_ctlcluster "$ver" "$name" stop
    fi
  done < <(pg_lsclusters -h 2>/dev/null)
}

pg_launch() {
  if [[ -n "${HELIOS_DATABASE_URL:-}" ]]; then
    return 0
  fi
  [[ -x "$PG_BIN/initdb" ]] || die "PostgreSQL 15 not found in $PG_BIN: run scripts/install.sh"
  [[ -n "$(pg_pid)" ]] && return 0

  pg_stop_debian_cluster
  if port_open "$PG_PORT"; then
    die "port $PG_PORT is taken by another process (pid $(port_pid "$PG_PORT")), not by our PostgreSQL; stop it or set HELIOS_DATABASE_URL to use it"
  fi

  mkdir -p "$PG_DIR"
  make_traversable "$PG_DIR"
  if ((EUID == 0)); then
    chown postgres:postgres "$PG_DIR"
    touch "$pg_log" && chown postgres:postgres "$pg_log"
  fi
  as_pg mkdir -p "$PG_SOCKET_DIR"

  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    step "postgres: initdb $PG_DATA"
    # Local socket connections are trusted (only this machine's users can reach the socket);
    # TCP needs a password, as a real deployment would.
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --encoding=UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >>"$pg_log" 2>&1 ||
      fail_with_log "postgres: initdb failed" "$pg_log"
    echo "include_if_exists = 'helios.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  render "$ROOT/scripts/postgres/helios.conf.tmpl" \
    PG_PORT="$PG_PORT" PG_SOCKET_DIR="$PG_SOCKET_DIR" | as_pg tee "$PG_DATA/helios.conf" >/dev/null

  step "postgres: starting on 127.0.0.1:$PG_PORT (log $pg_log)"
  # -W: do not wait here; pg_wait does, so Kafka's JVM and PostgreSQL start side by side.
  pg_ctl start -W -l "$pg_log" >/dev/null 9>&- || fail_with_log "postgres: pg_ctl start failed" "$pg_log"
}

pg_wait() {
  if [[ -n "${HELIOS_DATABASE_URL:-}" ]]; then
    local url
    url=$(libpq_url "$HELIOS_DATABASE_URL")
    PGCONNECT_TIMEOUT=10 psql -X -q -At "$url" -c 'select 1' >/dev/null ||
      die "postgres: external HELIOS_DATABASE_URL does not answer (or refuses the credentials)"
    step "postgres: using external HELIOS_DATABASE_URL (answers)"
    return 0
  fi
  local deadline=$((SECONDS + PG_WAIT)) ready=""
  while ((SECONDS < deadline)); do
    if pg_isready -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres; then
      ready=1
      break
    fi
    # pg_ctl -W returns at once, so the postmaster may still be writing its pid file.
    if [[ -z "$(pg_pid)" ]] && ((SECONDS > deadline - PG_WAIT + 3)); then
      fail_with_log "postgres: the server exited during start-up" "$pg_log"
    fi
    sleep 0.2
  done
  [[ -n "$ready" ]] || fail_with_log "postgres: not ready after ${PG_WAIT}s" "$pg_log"

  # Role and database, idempotently; the password is (re)set so that it is always the default.
  pg_admin <<'SQL' || fail_with_log "postgres: creating role/database helios failed" "$pg_log"
SELECT format('CREATE ROLE helios LOGIN CREATEDB PASSWORD %L', 'helios')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'helios') \gexec
ALTER ROLE helios LOGIN CREATEDB PASSWORD 'helios';
SELECT 'CREATE DATABASE helios OWNER helios'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'helios') \gexec
SQL
  step "postgres: ready on localhost:$PG_PORT (pid $(pg_pid)), postgresql://helios:helios@localhost:$PG_PORT/helios"
}

pg_stop() {
  local pid
  pid=$(pg_pid)
  if [[ -n "$pid" ]]; then
    step "postgres: stopping (pid $pid)"
    pg_ctl stop -m fast -w -t 30 >/dev/null || {
      step "postgres: fast shutdown timed out; sending SIGQUIT (immediate shutdown)"
      kill -QUIT "$pid" 2>/dev/null || true
      sleep 1
      alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    }
  fi
}

pg_status() {
  if [[ -n "${HELIOS_DATABASE_URL:-}" ]]; then
    if PGCONNECT_TIMEOUT=5 psql -X -q -At "$(libpq_url "$HELIOS_DATABASE_URL")" -c 'select 1' >/dev/null 2>&1; then
      echo "postgres  external  HELIOS_DATABASE_URL  answering"
    else
      echo "postgres  external  HELIOS_DATABASE_URL  NOT ANSWERING"; return 1
    fi
    return 0
  fi
  local pid
  pid=$(pg_pid)
  if [[ -z "$pid" ]]; then
    echo "postgres  stopped"; return 1
  elif pg_isready -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres; then
    echo "postgres  running   localhost:$PG_PORT  pid $pid  data $PG_DATA"
  else
    echo "postgres  running   localhost:$PG_PORT  pid $pid  NOT ANSWERING (see $pg_log)"; return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Redis

redis_pidfile="$PIDS/redis.pid"
redis_log="$LOGS/redis.log"

# Is pid $1 our redis-server? It runs in our data directory (redis-server chdirs to --dir).
redis_is_ours() { [[ "$(readlink "/proc/$1/cwd" 2>/dev/null)" == "$REDIS_DIR" ]]; }

# Pid of our Redis: from the pid file, or (pid file lost) whoever listens on its port, if ours.
redis_pid() { our_pid "$redis_pidfile" "$REDIS_PORT" redis_is_ours; }

redis_answers() { [[ "$(timeout 3 redis-cli "$@" ping 2>/dev/null)" == PONG ]]; }

# Debian's packaged redis-server (started by apt when invoke-rc.d allows it) holds port 6379.
redis_stop_debian_service() {
  local pid
  if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
    step "redis: stopping Debian's redis-server service (Helios runs its own)"
    systemctl stop redis-server
  fi
  pid=$(pid_from_file /run/redis/redis-server.pid)
  if [[ -n "$pid" ]]; then
    step "redis: stopping Debian's redis-server (pid $pid; Helios runs its own)"
    stop_pid redis-server "$pid"
  fi
}

redis_launch() {
  if [[ -n "${HELIOS_REDIS_URL:-}" ]]; then
    return 0
  fi
  command -v redis-server >/dev/null || die "redis-server not found: run scripts/install.sh"
  local pid
  pid=$(redis_pid)
  if [[ -n "$pid" ]]; then
    echo "$pid" >"$redis_pidfile"
    return 0
  fi
  redis_stop_debian_service
  if port_open "$REDIS_PORT"; then
    die "port $REDIS_PORT is taken by another process (pid $(port_pid "$REDIS_PORT")), not by our Redis; stop it or set HELIOS_REDIS_URL to use it"
  fi
  mkdir -p "$REDIS_DIR"
  rm -f "$redis_pidfile"
  step "redis: starting on localhost:$REDIS_PORT (log $redis_log)"
  # Errors in the arguments are printed before redis-server daemonizes and opens --logfile;
  # appending them to the same file keeps everything in the log that a failure shows.
  # shellcheck disable=SC2094
  redis-server --daemonize yes --port "$REDIS_PORT" --bind 127.0.0.1 \
    --dir "$REDIS_DIR" --pidfile "$redis_pidfile" --logfile "$redis_log" \
    --appendonly yes --appendfsync everysec --save '' >>"$redis_log" 2>&1 9>&- ||
    fail_with_log "redis: redis-server failed to start" "$redis_log"
}

redis_wait() {
  if [[ -n "${HELIOS_REDIS_URL:-}" ]]; then
    redis_answers -u "$HELIOS_REDIS_URL" ||
      die "redis: external HELIOS_REDIS_URL does not answer PING"
    step "redis: using external HELIOS_REDIS_URL (answers)"
    return 0
  fi
  local deadline=$((SECONDS + REDIS_WAIT))
  while ((SECONDS < deadline)); do
    # PING answers LOADING while a dump is read, so PONG means ready.
    if redis_answers -p "$REDIS_PORT"; then
      step "redis: ready on localhost:$REDIS_PORT (pid $(redis_pid))"
      return 0
    fi
    sleep 0.1
  done
  fail_with_log "redis: not ready after ${REDIS_WAIT}s" "$redis_log"
}

redis_stop() {
  local pid
  pid=$(redis_pid)
  if [[ -n "$pid" ]]; then
    step "redis: stopping (pid $pid)"
    stop_pid redis "$pid"
  fi
  rm -f "$redis_pidfile"
}

redis_status() {
  if [[ -n "${HELIOS_REDIS_URL:-}" ]]; then
    if redis_answers -u "$HELIOS_REDIS_URL"; then
      echo "redis     external  HELIOS_REDIS_URL  answering"
    else
      echo "redis     external  HELIOS_REDIS_URL  NOT ANSWERING"; return 1
    fi
    return 0
  fi
  local pid
  pid=$(redis_pid)
  if [[ -z "$pid" ]]; then
    echo "redis     stopped"; return 1
  elif redis_answers -p "$REDIS_PORT"; then
    echo "redis     running   localhost:$REDIS_PORT  pid $pid"
  else
    echo "redis     running   localhost:$REDIS_PORT  pid $pid  NOT ANSWERING (see $redis_log)"; return 1
  fi
}

# ---------------------------------------------------------------------------------------------

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

fn_prefix() {
  case $1 in
    kafka) echo kafka ;;
    postgres | postgresql | pg) echo pg ;;
    redis) echo redis ;;
    *) die "unknown service '$1' (expected: ${ALL[*]})" ;;
  esac
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  local names=("$@") prefixes=() n rc=0
  ((${#names[@]})) || names=("${ALL[@]}")
  for n in "${names[@]}"; do prefixes+=("$(fn_prefix "$n")"); done

  mkdir -p "$LOGS" "$PIDS"
  case $cmd in
    start | stop)
      # Test sessions and `make up` may run this at the same time: one at a time, so the second
      # finds the servers the first started. Servers are started with fd 9 closed, so that they
      # do not hold the lock after this script exits.
      exec 9>"$STATE/infra.lock"
      flock -w 180 9 || die "another scripts/infra.sh has held $STATE/infra.lock for 3 minutes"
      ;;
  esac
  case $cmd in
    start)
      # Launch everything first, then wait for each: Kafka's JVM start-up (the slowest) overlaps
      # with initdb and PostgreSQL's start.
      for n in "${prefixes[@]}"; do "${n}_launch"; done
      for n in "${prefixes[@]}"; do "${n}_wait"; done
      ;;
    stop)
      for n in "${prefixes[@]}"; do "${n}_stop"; done
      ;;
    status)
      for n in "${prefixes[@]}"; do "${n}_status" || rc=1; done
      return "$rc"
      ;;
    -h | --help | help | "") usage ;;
    *) printf 'error: unknown command %s\n' "$cmd" >&2; usage ;;
  esac
}

main "$@"
