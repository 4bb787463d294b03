# Shared settings for scripts/start-rabbitmq.sh and scripts/stop-rabbitmq.sh (sourced, not run).
# Everything binds to loopback: AMQP listener, Erlang distribution and epmd.
#
# Tunables (environment):
#   RABBITMQ_PORT       AMQP port                      (default 5672)
#   RABBITMQ_NODENAME   Erlang node name               (default rabbit@localhost; rabbit-<port>@localhost off 5672)
#   RABBITMQ_DIST_PORT  Erlang distribution port       (default RABBITMQ_PORT + 20000)
#   RABBITMQ_START_TIMEOUT  seconds to wait for boot   (default 120)

RABBITMQ_PORT="${RABBITMQ_PORT:-5672}"
if [ "$RABBITMQ_PORT" = 5672 ]; then
    RABBITMQ_NODENAME="${RABBITMQ_NODENAME:-rabbit@localhost}"
else
    RABBITMQ_NODENAME="${RABBITMQ_NODENAME:-rabbit-${RABBITMQ_PORT}@localhost}"
fi
RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-$((RABBITMQ_PORT + 20000))}"
RABBITMQ_START_TIMEOUT="${RABBITMQ_START_TIMEOUT:-120}"
RABBITMQ_HOME_DIR=/var/lib/rabbitmq
RABBITMQ_PID_FILE="${RABBITMQ_PID_FILE:-$RABBITMQ_HOME_DIR/${RABBITMQ_NODENAME}.pid}"

export RABBITMQ_NODENAME RABBITMQ_DIST_PORT RABBITMQ_PID_FILE
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$RABBITMQ_PORT"
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
# The CLI tools reach the node through epmd/distribution on loopback as well.
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

# Run a RabbitMQ command as the rabbitmq user (the Debian wrappers expect root or rabbitmq).
as_rabbitmq() {
    if [ "$(id -u)" = "$(id -u rabbitmq)" ]; then
        (cd "$RABBITMQ_HOME_DIR" && "$@")
    elif [ "$(id -u)" = 0 ]; then
        (cd "$RABBITMQ_HOME_DIR" && runuser -u rabbitmq -- "$@")
    else
        echo "must run as root or rabbitmq" >&2
        return 1
    fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when the node answers the CLI (quick: no boot wait).
node_answers() {
    as_rabbitmq /usr/sbin/rabbitmq-diagnostics -q -n "$RABBITMQ_NODENAME" ping >/dev/null 2>&1
}
