#!/usr/bin/env bash
# Stop the node started by scripts/start-rabbitmq.sh (same RABBITMQ_PORT / RABBITMQ_NODENAME).
# Idempotent: does nothing when the node is not running.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/rabbitmq-env.sh
. "$here/rabbitmq-env.sh"

if node_answers; then
    echo "Stopping RabbitMQ node $RABBITMQ_NODENAME"
    # With the pid file, stop also waits for the OS process to exit.
    if [ -s "$RABBITMQ_PID_FILE" ]; then
        as_rabbitmq /usr/sbin/rabbitmqctl -q -n "$RABBITMQ_NODENAME" stop "$RABBITMQ_PID_FILE"
    else
        as_rabbitmq /usr/sbin/rabbitmqctl -q -n "$RABBITMQ_NODENAME" stop
    fi
elif [ -s "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null; then
    pid="$(cat "$RABBITMQ_PID_FILE")"
    echo "RabbitMQ node $RABBITMQ_NODENAME (pid $pid) does not answer; terminating it"
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
else
    echo "RabbitMQ node $RABBITMQ_NODENAME is not running"
fi
rm -f "$RABBITMQ_PID_FILE"
