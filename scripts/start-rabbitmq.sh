#!/usr/bin/env bash
# Start Debian's rabbitmq-server in the background without systemd, bound to loopback only.
# Idempotent: returns at once when the node already answers. Needs root (or the rabbitmq user).
# Usage: scripts/start-rabbitmq.sh            (AMQP on 127.0.0.1:5672)
#        RABBITMQ_PORT=5680 scripts/start-rabbitmq.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/rabbitmq-env.sh
. "$here/rabbitmq-env.sh"

if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
    echo "rabbitmq-server is not installed (apt-get install -y rabbitmq-server)" >&2
    exit 1
fi

# Serialise concurrent starts for the same port (fd 9 is closed for the server itself).
exec 9>"/tmp/start-rabbitmq-${RABBITMQ_PORT}.lock"
flock -w "$RABBITMQ_START_TIMEOUT" 9

if port_open "$RABBITMQ_PORT" && node_answers; then
    echo "RabbitMQ node $RABBITMQ_NODENAME already answering on 127.0.0.1:$RABBITMQ_PORT"
    exit 0
fi

pid_alive() {
    [ -s "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null
}

if pid_alive; then
    echo "RabbitMQ node $RABBITMQ_NODENAME is starting (pid $(cat "$RABBITMQ_PID_FILE")); waiting"
else
    if port_open "$RABBITMQ_PORT"; then
        echo "127.0.0.1:$RABBITMQ_PORT is taken by something that is not node $RABBITMQ_NODENAME" >&2
        exit 1
    fi
    install -d -o rabbitmq -g rabbitmq /var/log/rabbitmq "$RABBITMQ_HOME_DIR"
    echo "Starting RabbitMQ node $RABBITMQ_NODENAME on 127.0.0.1:$RABBITMQ_PORT (dist $RABBITMQ_DIST_PORT)"
    # setsid: the node outlives this script and the caller's process group.
    as_rabbitmq setsid /usr/sbin/rabbitmq-server </dev/null >/dev/null 2>&1 9>&- &
fi

# await_startup needs the node to be registered first; poll until the CLI reaches it.
deadline=$((SECONDS + RABBITMQ_START_TIMEOUT))
until node_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "RabbitMQ did not come up within ${RABBITMQ_START_TIMEOUT}s; last log lines:" >&2
        tail -n 30 /var/log/rabbitmq/startup_log /var/log/rabbitmq/startup_err 2>/dev/null >&2 || true
        exit 1
    fi
    sleep 1
done
remaining=$((deadline - SECONDS)); [ "$remaining" -gt 5 ] || remaining=5
as_rabbitmq /usr/sbin/rabbitmqctl -q -n "$RABBITMQ_NODENAME" await_startup --timeout "$remaining"
until port_open "$RABBITMQ_PORT"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "RabbitMQ booted but 127.0.0.1:$RABBITMQ_PORT does not accept connections" >&2
        exit 1
    fi
    sleep 1
done
echo "RabbitMQ node $RABBITMQ_NODENAME ready on 127.0.0.1:$RABBITMQ_PORT"
