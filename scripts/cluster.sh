#!/usr/bin/env bash
# The production-shaped deployment on one machine, every service its own process on loopback:
# PostgreSQL (metadata and controller state), the meta-service, two controller instances (one leads, one
# stands by) and two gateways following both controllers. Used by operators to try the cluster and by
# tests/Cluster.EndToEnd.Tests. docker-compose.yml is the same topology in containers.
#
#   scripts/cluster.sh start            build (unless SKIP_BUILD=1), start everything, wait until each answers
#   scripts/cluster.sh stop             stop every process and PostgreSQL, keep the data
#   scripts/cluster.sh status           which processes run
#   scripts/cluster.sh kill NAME        SIGKILL one process (controller-a, gateway-2, …), for failover drills
#   scripts/cluster.sh start-one NAME   start one process again after a kill
#   scripts/cluster.sh destroy          stop, then delete CLUSTER_DIR
#
# Settings (environment): CLUSTER_DIR (/tmp/gateway-cluster), CLUSTER_TOKEN (one token for the meta-service
# and the controllers; default cluster-secret), CONFIGURATION (Release), PG_PORT (55432), META_PORT (15680),
# CONTROLLER_A_PORT / CONTROLLER_B_PORT (15690 / 15691), GATEWAY_1_PORT / GATEWAY_2_PORT (5672 / 5674),
# GATEWAY_1_METRICS_PORT / GATEWAY_2_METRICS_PORT (15692 / 15693), CONTROLLER_LEASE_SECONDS (5),
# GATEWAY_HEARTBEAT_MS (1000). After start, $CLUSTER_DIR/cluster.env holds every URL for scripts to source.
# Runs as any user; as root, PostgreSQL runs as the postgres user (it refuses root).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
CLUSTER_DIR="${CLUSTER_DIR:-/tmp/gateway-cluster}"
CLUSTER_TOKEN="${CLUSTER_TOKEN:-cluster-secret}"
CONFIGURATION="${CONFIGURATION:-Release}"
PG_PORT="${PG_PORT:-55432}"
META_PORT="${META_PORT:-15680}"
CONTROLLER_A_PORT="${CONTROLLER_A_PORT:-15690}"
CONTROLLER_B_PORT="${CONTROLLER_B_PORT:-15691}"
GATEWAY_1_PORT="${GATEWAY_1_PORT:-5672}"
GATEWAY_2_PORT="${GATEWAY_2_PORT:-5674}"
GATEWAY_1_METRICS_PORT="${GATEWAY_1_METRICS_PORT:-15692}"
GATEWAY_2_METRICS_PORT="${GATEWAY_2_METRICS_PORT:-15693}"
CONTROLLER_LEASE_SECONDS="${CONTROLLER_LEASE_SECONDS:-5}"
GATEWAY_HEARTBEAT_MS="${GATEWAY_HEARTBEAT_MS:-1000}"
START_TIMEOUT="${START_TIMEOUT:-90}"

PIDS="$CLUSTER_DIR/pids"
LOGS="$CLUSTER_DIR/logs"
PGDATA="$CLUSTER_DIR/postgres"
DATABASE_URL="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=gateway"
META_URL="http://127.0.0.1:$META_PORT"
CONTROLLER_A_URL="http://127.0.0.1:$CONTROLLER_A_PORT"
CONTROLLER_B_URL="http://127.0.0.1:$CONTROLLER_B_PORT"
CONTROLLER_URLS="$CONTROLLER_A_URL,$CONTROLLER_B_URL"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

say() { printf '[cluster] %s\n' "$*"; }
die() { printf '[cluster] %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$dir" ] || die "PostgreSQL is not installed (apt-get install -y postgresql)"
    echo "$dir"
}

binary() { # name → the built assembly
    case "$1" in
        meta-service) echo "$ROOT/meta-service/MetaService.Api/bin/$CONFIGURATION/net10.0/MetaService.Api.dll" ;;
        controller) echo "$ROOT/controller/Controller.Service/bin/$CONFIGURATION/net10.0/controller.dll" ;;
        gateway) echo "$ROOT/gateway/Gateway.Host/bin/$CONFIGURATION/net10.0/Gateway.Host.dll" ;;
    esac
}

wait_until() { # name command... — until the command succeeds; fails at once if the process died
    local what="$1"; shift
    local deadline=$((SECONDS + START_TIMEOUT))
    until "$@"; do
        if [ -e "$PIDS/$what.pid" ] && ! running "$what"; then
            tail -n 20 "$LOGS/$what.log" >&2 || true
            die "$what exited during start (log $LOGS/$what.log)"
        fi
        [ "$SECONDS" -lt "$deadline" ] || die "$what did not come up within ${START_TIMEOUT}s (logs in $LOGS)"
        sleep 0.2
    done
}

# GET http://127.0.0.1:PORT/healthz answers 200 (bash's /dev/tcp: a fresh machine may lack curl).
healthy() {
    local status
    status="$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && timeout 2 head -n 1 <&3) 2>/dev/null)" || return 1
    [[ "$status" == *" 200 "* ]]
}

running() { [ -s "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

launch() { # name port command... — detached (setsid), output to its log, pid recorded
    local name="$1" port="$2"; shift 2
    if running "$name"; then
        say "$name already runs (pid $(cat "$PIDS/$name.pid"))"
        return
    fi
    # Its readiness check is the port answering: a port some other process holds would pass it falsely.
    ! port_open "$port" || die "127.0.0.1:$port (for $name) is in use by another process"
    setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$PIDS/$name.pid"
    say "$name started (pid $!, log $LOGS/$name.log)"
}

start_postgres() {
    local bin
    bin="$(pg_bin)"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        mkdir -p "$PGDATA"
        [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PGDATA"
        as_postgres "$bin/initdb" -D "$PGDATA" -A trust -U postgres >"$LOGS/postgres-initdb.log" 2>&1
    fi
    if as_postgres "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        say "postgres already runs"
    else
        [ "$(id -u)" = 0 ] && chown postgres "$LOGS" && touch "$LOGS/postgres.log" && chown postgres "$LOGS/postgres.log"
        as_postgres "$bin/pg_ctl" -D "$PGDATA" -l "$LOGS/postgres.log" -w -t "$START_TIMEOUT" \
            -o "-p $PG_PORT -k $PGDATA -c listen_addresses=127.0.0.1" start >/dev/null
        say "postgres started on 127.0.0.1:$PG_PORT"
    fi
    if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='gateway'" | grep -q 1; then
        "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres gateway
    fi
}

start_one() {
    case "$1" in
        postgres) start_postgres ;;
        meta-service)
            launch meta-service "$META_PORT" dotnet "$(binary meta-service)" --bind 127.0.0.1 --port "$META_PORT" \
                --database "$DATABASE_URL" --token "$CLUSTER_TOKEN"
            wait_until "meta-service" healthy "$META_PORT" ;;
        controller-a|controller-b)
            local port url
            if [ "$1" = controller-a ]; then port=$CONTROLLER_A_PORT; url=$CONTROLLER_A_URL; else port=$CONTROLLER_B_PORT; url=$CONTROLLER_B_URL; fi
            launch "$1" "$port" dotnet "$(binary controller)" --bind 127.0.0.1 --port "$port" --database "$DATABASE_URL" \
                --token "$CLUSTER_TOKEN" --instance-id "$1" --advertise-url "$url" --lease-seconds "$CONTROLLER_LEASE_SECONDS"
            wait_until "$1" healthy "$port" ;;
        gateway-1|gateway-2)
            local port metrics
            if [ "$1" = gateway-1 ]; then port=$GATEWAY_1_PORT; metrics=$GATEWAY_1_METRICS_PORT; else port=$GATEWAY_2_PORT; metrics=$GATEWAY_2_METRICS_PORT; fi
            mkdir -p "$CLUSTER_DIR/$1"
            launch "$1" "$port" dotnet "$(binary gateway)" --bind 127.0.0.1 --port "$port" --metrics-port "$metrics" \
                --data-dir "$CLUSTER_DIR/$1" --metadata "$META_URL" --metadata-token "$CLUSTER_TOKEN" \
                --controller "$CONTROLLER_URLS" --controller-token "$CLUSTER_TOKEN" --node-id "$1" \
                --controller-heartbeat-ms "$GATEWAY_HEARTBEAT_MS"
            wait_until "$1" port_open "$port" ;;
        *) die "unknown process '$1' (postgres, meta-service, controller-a, controller-b, gateway-1, gateway-2)" ;;
    esac
}

write_env() {
    cat >"$CLUSTER_DIR/cluster.env" <<EOF
CLUSTER_TOKEN=$CLUSTER_TOKEN
DATABASE_URL='$DATABASE_URL'
META_URL=$META_URL
CONTROLLER_URLS=$CONTROLLER_URLS
GATEWAY_1_URL=amqp://guest:guest@127.0.0.1:$GATEWAY_1_PORT/
GATEWAY_2_URL=amqp://guest:guest@127.0.0.1:$GATEWAY_2_PORT/
GATEWAY_1_METRICS_URL=http://127.0.0.1:$GATEWAY_1_METRICS_PORT/metrics
GATEWAY_2_METRICS_URL=http://127.0.0.1:$GATEWAY_2_METRICS_PORT/metrics
EOF
}

stop_one() {
    local name="$1"
    running "$name" || { rm -f "$PIDS/$name.pid"; return 0; }
    local pid
    pid="$(cat "$PIDS/$name.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$PIDS/$name.pid"
    say "$name stopped"
}

stop_all() {
    for name in gateway-2 gateway-1 controller-b controller-a meta-service; do stop_one "$name"; done
    if [ -s "$PGDATA/PG_VERSION" ]; then
        as_postgres "$(pg_bin)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 && say "postgres stopped" || true
    fi
}

command="${1:-}"
mkdir -p "$PIDS" "$LOGS"
case "$command" in
    start)
        if [ "${SKIP_BUILD:-0}" != 1 ]; then
            say "building ($CONFIGURATION)"
            dotnet build "$ROOT/Gateway.sln" -c "$CONFIGURATION" -v quiet -nologo >"$LOGS/build.log" 2>&1 \
                || { tail -n 30 "$LOGS/build.log" >&2; die "build failed"; }
        fi
        for name in meta-service controller gateway; do
            [ -f "$(binary $name)" ] || die "$(binary $name) is missing: build with -c $CONFIGURATION first"
        done
        # A failed start leaves nothing half-running behind (an EXIT trap: die exits, which no ERR trap sees).
        trap 'stop_all >/dev/null 2>&1' EXIT
        for name in postgres meta-service controller-a controller-b gateway-1 gateway-2; do start_one "$name"; done
        trap - EXIT
        write_env
        say "up: gateways amqp://127.0.0.1:$GATEWAY_1_PORT and :$GATEWAY_2_PORT, controllers $CONTROLLER_URLS, token in $CLUSTER_DIR/cluster.env"
        ;;
    start-one) start_one "${2:?name}" ;;
    kill)
        name="${2:?name}"
        running "$name" || die "$name is not running"
        kill -KILL -- "-$(cat "$PIDS/$name.pid")" 2>/dev/null || kill -KILL "$(cat "$PIDS/$name.pid")"
        rm -f "$PIDS/$name.pid"
        say "$name killed"
        ;;
    stop) stop_all ;;
    destroy)
        stop_all
        rm -rf "$CLUSTER_DIR"
        say "removed $CLUSTER_DIR"
        ;;
    status)
        for name in meta-service controller-a controller-b gateway-1 gateway-2; do
            if running "$name"; then echo "$name running (pid $(cat "$PIDS/$name.pid"))"; else echo "$name stopped"; fi
        done
        if [ -s "$PGDATA/PG_VERSION" ] && as_postgres "$(pg_bin)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
            echo "postgres running"
        else
            echo "postgres stopped"
        fi
        ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
