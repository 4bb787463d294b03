#!/usr/bin/env bash
# Crash a broker and start it again on the same address with the same data; exits 0 once it answers AMQP.
# This is what compat scenarios run (through BROKER_RESTART_COMMAND, with `bash -c`) to test client recovery.
#
# Usage:
#   scripts/restart-broker.sh rabbitmq PORT
#       SIGKILLs the beam.smp of node rabbit-PORT@localhost (rabbit@localhost on 5672), the node started by
#       scripts/start-rabbitmq.sh, then starts it again with that script (same node name, so same Mnesia and
#       message store).
#   scripts/restart-broker.sh gateway PORT DATA_DIR PIDFILE LOGFILE [PROJECT]
#       SIGKILLs the gateway's process group whose leader's pid is in PIDFILE, then starts it again exactly as
#       .ci/run does (setsid dotnet run --no-build -c Release --project PROJECT -- --port PORT --data-dir DATA_DIR,
#       output appended to LOGFILE) and writes the new leader's pid to PIDFILE, where .ci/run's cleanup reads it.
#       PROJECT defaults to gateway/Gateway.Host.
#
# SIGKILL, not a shutdown: nothing gets to flush or close cleanly, like a crash or a pulled plug. A broker that
# loses a message it confirmed before the kill is what the recovery scenarios are there to catch.
# Environment: BROKER_RESTART_TIMEOUT seconds to wait for the broker to answer again (default 120).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
timeout_s="${BROKER_RESTART_TIMEOUT:-120}"

usage() {
    sed -n '5,14p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when 127.0.0.1:$1 answers an AMQP 0-9-1 protocol header with a method frame (connection.start):
# a listening socket alone is not enough, the broker must have booted far enough to speak AMQP.
amqp_answers() {
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3
        IFS= read -r -n 1 -d "" frame_type <&3 || exit 1
        [ "$frame_type" = $'"'"'\x01'"'"' ]' _ "$1" 2>/dev/null
}

wait_until_closed() { # port
    local deadline=$((SECONDS + 30))
    while port_open "$1"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "127.0.0.1:$1 still accepts connections 30s after the kill" >&2
            exit 1
        fi
        sleep 0.2
    done
}

wait_until_amqp() { # port [pid that must stay alive]
    local deadline=$((SECONDS + timeout_s))
    until amqp_answers "$1"; do
        if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
            echo "the restarted broker (pid $2) exited before answering on 127.0.0.1:$1" >&2
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "the restarted broker does not answer AMQP on 127.0.0.1:$1 within ${timeout_s}s" >&2
            exit 1
        fi
        sleep 0.2
    done
}

restart_rabbitmq() { # port
    local port="$1" pid
    export RABBITMQ_PORT="$port"
    # shellcheck source=scripts/rabbitmq-env.sh
    . "$here/rabbitmq-env.sh"
    # The pid file written by the node itself holds the Erlang VM's OS pid (beam.smp); the node name is in the
    # VM's environment (RabbitMQ 3.10 takes it from there, not from the command line).
    pid="$(cat "$RABBITMQ_PID_FILE" 2>/dev/null || true)"
    if [ -z "$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != beam.smp ] \
        || ! tr '\0' '\n' <"/proc/$pid/environ" | grep -qxF "RABBITMQ_NODENAME=$RABBITMQ_NODENAME"; then
        echo "no running beam.smp for node $RABBITMQ_NODENAME (pid file $RABBITMQ_PID_FILE: '${pid}')" >&2
        exit 1
    fi
    echo "killing RabbitMQ node $RABBITMQ_NODENAME (beam.smp pid $pid) with SIGKILL"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    wait_until_closed "$port"
    RABBITMQ_START_TIMEOUT="$timeout_s" bash "$here/start-rabbitmq.sh"
    wait_until_amqp "$port"
}

restart_gateway() { # port data-dir pidfile logfile [project]
    local port="$1" data_dir="$2" pidfile="$3" logfile="$4" project="${5:-gateway/Gateway.Host}" pid new_pid
    [ -d "$data_dir" ] || { echo "data directory $data_dir does not exist" >&2; exit 1; }
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    # The pid must still be the gateway on that data directory, not a process that reused the number.
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null \
        || ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--data-dir $data_dir"; then
        echo "no running gateway on $data_dir (pid file $pidfile: '${pid}')" >&2
        exit 1
    fi
    echo "killing the gateway (process group $pid) with SIGKILL"
    # The group holds `dotnet run` and the gateway it launched; both go, as in a crash.
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    wait_until_closed "$port"
    echo "=== restarted by scripts/restart-broker.sh at $(date -u +%H:%M:%S)" >>"$logfile"
    # Same command line as .ci/run, from the repository root. setsid: its own process group, so cleanup can stop
    # dotnet run and the app together, and so it outlives the scenario that asked for the restart.
    # MSBuild and test-host variables of the `dotnet test` that runs the scenario must not leak into `dotnet run`.
    (
        cd "$root"
        unset MSBuildExtensionsPath MSBuildSDKsPath MSBUILD_EXE_PATH MSBuildLoadMicrosoftTargetsReadOnly
        GATEWAY_PORT="$port" exec setsid dotnet run --no-build -c Release --project "$project" -- \
            --port "$port" --data-dir "$data_dir" >>"$logfile" 2>&1 </dev/null
    ) &
    new_pid=$!
    echo "$new_pid" >"$pidfile"
    wait_until_amqp "$port" "$new_pid"
}

[ $# -ge 1 ] || usage
case "$1" in
    rabbitmq)
        [ $# -eq 2 ] || usage
        restart_rabbitmq "$2"
        ;;
    gateway)
        [ $# -ge 5 ] && [ $# -le 6 ] || usage
        restart_gateway "${@:2}"
        ;;
    *)
        usage
        ;;
esac
echo "broker on 127.0.0.1:${2} answers AMQP again"
