#!/usr/bin/env bash
# Builds the definitions fixture of tests/MetaService.Definitions.Tests in a real RabbitMQ and exports it.
#
# What it does: starts a scratch RabbitMQ node (scripts/start-rabbitmq.sh, default AMQP port 5691 and
# node rabbit-5691@localhost, so the shared node on 5672 and its vhosts are never touched), resets it
# when this script started it, creates the fixture topology with rabbitmqctl (vhosts, users, permissions,
# topic permissions, policies, an operator policy, vhost and user limits, the cluster name, and one
# internal exchange through import_definitions, since AMQP clients cannot set the internal flag) and over
# AMQP with declare-topology.cs (exchanges, queues, bindings), exports it with
# `rabbitmqctl export_definitions`, and stops the node again if it started it. Password hashes change on
# every run (random salts); the passwords do not.
#
# Regenerate (root, Debian's rabbitmq-server and the .NET SDK installed):
#     bash scripts/definitions-fixture/populate-rabbitmq.sh
# then review and commit tests/MetaService.Definitions.Tests/Fixtures/rabbitmq-3.10-definitions.json.
# The tests know the fixture's passwords (tests/MetaService.Definitions.Tests/Support/DefinitionsFixture.cs)
# and its topology (the assertions of ImportTests.cs and ParsingTests.cs): keep them in step.
# Environment: RABBITMQ_PORT (scratch node port, not 5672), FIXTURE_OUT (output file).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export RABBITMQ_PORT="${RABBITMQ_PORT:-5691}"
out="${FIXTURE_OUT:-$root/tests/MetaService.Definitions.Tests/Fixtures/rabbitmq-3.10-definitions.json}"

if [ "$RABBITMQ_PORT" = 5672 ]; then
    echo "refusing to populate the shared node on 5672: its export would carry everyone's objects" >&2
    exit 1
fi

# shellcheck source=scripts/rabbitmq-env.sh
. "$root/scripts/rabbitmq-env.sh"
ctl() { as_rabbitmq /usr/sbin/rabbitmqctl -q -n "$RABBITMQ_NODENAME" "$@"; }

started=0
if ! node_answers; then
    started=1
fi
bash "$root/scripts/start-rabbitmq.sh"
stop_node() {
    if [ "$started" = 1 ]; then
        bash "$root/scripts/stop-rabbitmq.sh" || true
    fi
}
trap stop_node EXIT

if [ "$started" = 1 ]; then
    # Our own scratch node: start from a pristine state (only guest and the "/" vhost).
    ctl stop_app
    ctl reset
    ctl start_app
    ctl await_startup
else
    echo "node $RABBITMQ_NODENAME was already running: removing the fixture's objects instead of resetting it"
    for vhost in orders billing; do ctl delete_vhost "$vhost" >/dev/null 2>&1 || true; done
    for user in admin-ops app-user monitor-bot; do ctl delete_user "$user" >/dev/null 2>&1 || true; done
fi

echo "--- vhosts"
ctl add_vhost orders --description "Order intake and fulfilment" --tags "production,eu-west"
ctl add_vhost billing --description "Invoices and payment events" --tags "production"

echo "--- users (passwords are known to the tests)"
ctl add_user admin-ops 'Adm1n-pa55'
ctl set_user_tags admin-ops administrator
ctl add_user app-user 's3cret!'
ctl add_user monitor-bot 'wätcher#42'
ctl set_user_tags monitor-bot monitoring management
ctl set_user_limits app-user '{"max-connections": 50, "max-channels": 500}'

echo "--- permissions"
ctl set_permissions -p orders admin-ops '.*' '.*' '.*'
ctl set_permissions -p billing admin-ops '.*' '.*' '.*'
ctl set_permissions -p orders app-user '^orders\..*' '^orders\..*' '^orders\..*'
ctl set_permissions -p billing app-user '' '^billing\.events$' '^billing\..*'
ctl set_permissions -p orders monitor-bot '' '' '.*'
ctl set_topic_permissions -p orders app-user amq.topic '^orders\.' '.*'

echo "--- policies, operator policy, limits, cluster name"
ctl set_policy -p orders --priority 1 --apply-to queues orders-audit-cap '^orders\.audit' \
    '{"max-length": 20000, "overflow": "reject-publish"}'
ctl set_policy -p orders --priority 0 --apply-to exchanges orders-headers-ae '^orders\.by-header$' \
    '{"alternate-exchange": "orders.unrouted"}'
ctl set_policy -p billing --priority 5 --apply-to queues billing-dead-letter '^billing\.invoices$' \
    '{"dead-letter-exchange": "billing.dlx", "message-ttl": 86400000}'
ctl set_operator_policy -p billing --priority 0 --apply-to queues billing-size-cap '.*' \
    '{"max-length-bytes": 104857600}'
ctl set_vhost_limits -p billing '{"max-connections": 200, "max-queues": 500}'
ctl set_cluster_name defs-fixture

echo "--- the internal exchange (AMQP clients cannot set exchange.declare's internal flag)"
internal="$(mktemp)"
cat >"$internal" <<'JSON'
{"exchanges": [{"name": "orders.archive", "vhost": "orders", "type": "topic", "durable": true,
  "auto_delete": false, "internal": true, "arguments": {}}]}
JSON
chmod 0644 "$internal"
ctl import_definitions "$internal"
rm -f "$internal"

echo "--- exchanges, queues and bindings over AMQP"
(cd "$here" && dotnet run declare-topology.cs -- "$RABBITMQ_PORT" admin-ops 'Adm1n-pa55')

echo "--- export to $out"
mkdir -p "$(dirname "$out")"
raw="$(mktemp)"
trap 'rm -f "$raw"; stop_node' EXIT
chmod 0666 "$raw"
ctl export_definitions "$raw"
# Pretty-printed (key order kept) so that the committed fixture diffs well; the content is RabbitMQ's.
if command -v jq >/dev/null 2>&1; then
    jq . "$raw" >"$out"
elif command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool --indent 2 "$raw" >"$out"
else
    cp "$raw" "$out"
fi
echo "wrote $out"
