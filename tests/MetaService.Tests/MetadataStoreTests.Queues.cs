using System.Text.Json.Nodes;
using MetaService.Contracts;

namespace MetaService.Tests;

// queue.declare / queue.delete with RabbitMQ's rules and reply texts, and the queue → topic mapping.
public abstract partial class MetadataStoreTests
{
    [Fact]
    public async Task A_declared_queue_gets_a_topic_that_is_never_reused()
    {
        var vhost = await NewVirtualHostAsync();
        var created = await Store.DeclareQueueAsync(Queue(vhost, "orders", args: Args(("x-message-ttl", 100))), passive: false);
        Assert.StartsWith("q-", created.Topic, StringComparison.Ordinal);
        Assert.Equal(100, created.Arguments["x-message-ttl"]!.GetValue<int>());

        var again = await Store.DeclareQueueAsync(Queue(vhost, "orders", args: Args(("x-message-ttl", 100L))), passive: false);
        Assert.Equal(created.Topic, again.Topic);
        Assert.Equal(created.Topic, (await Store.GetQueueAsync(vhost, "orders"))!.Topic);

        var deleted = await Store.DeleteQueueAsync(vhost, "orders");
        Assert.Equal(created.Topic, deleted!.Topic);
        Assert.Null(await Store.GetQueueAsync(vhost, "orders"));
        Assert.Null(await Store.DeleteQueueAsync(vhost, "orders")); // deleting a missing queue is fine

        var redeclared = await Store.DeclareQueueAsync(Queue(vhost, "orders"), passive: false);
        Assert.NotEqual(created.Topic, redeclared.Topic);

        var other = await Store.DeclareQueueAsync(Queue(vhost, "other"), passive: false);
        Assert.NotEqual(redeclared.Topic, other.Topic);
    }

    [Fact]
    public async Task Redeclaring_a_queue_differently_is_refused_with_RabbitMQs_texts()
    {
        var vhost = await NewVirtualHostAsync();
        var where = $"queue 'q' in vhost '{vhost}'";
        await Store.DeclareQueueAsync(Queue(vhost, "q", args: Args(("x-message-ttl", 100), ("x-dead-letter-exchange", "dlx"))), passive: false);

        await Refused(406, $"inequivalent arg 'durable' for {where}: received 'false' but current is 'true'",
            () => Store.DeclareQueueAsync(Queue(vhost, "q", durable: false), passive: false));
        await Refused(406, $"inequivalent arg 'auto_delete' for {where}: received 'true' but current is 'false'",
            () => Store.DeclareQueueAsync(Queue(vhost, "q", autoDelete: true), passive: false));
        await Refused(406, $"inequivalent arg 'x-message-ttl' for {where}: received '200' but current is '100'",
            () => Store.DeclareQueueAsync(Queue(vhost, "q", args: Args(("x-message-ttl", 200), ("x-dead-letter-exchange", "dlx"))), passive: false));
        await Refused(406, $"inequivalent arg 'x-message-ttl' for {where}: received none but current is the value '100' of type 'signedint'",
            () => Store.DeclareQueueAsync(Queue(vhost, "q", args: Args(("x-dead-letter-exchange", "dlx"))), passive: false));
        await Refused(406, $"inequivalent arg 'x-dead-letter-exchange' for {where}: received 'other' but current is 'dlx'",
            () => Store.DeclareQueueAsync(Queue(vhost, "q", args: Args(("x-message-ttl", 100), ("x-dead-letter-exchange", "other"))), passive: false));

        // A string is not an integer, even with the same digits (RabbitMQ compares type classes).
        await Refused(406, $"inequivalent arg 'x-message-ttl' for {where}: received '100' but current is '100'",
            () => Store.DeclareQueueAsync(Queue(vhost, "q", args: Args(("x-message-ttl", "100"), ("x-dead-letter-exchange", "dlx"))), passive: false));

        // Integers compare by value whatever their width; unknown arguments are not compared; classic == no type.
        await Store.DeclareQueueAsync(
            Queue(vhost, "q", args: Args(("x-message-ttl", 100L), ("x-dead-letter-exchange", "dlx"), ("x-custom", "anything"), ("x-queue-type", "classic"))),
            passive: false);

        await Store.DeclareQueueAsync(Queue(vhost, "fresh"), passive: false);
        await Refused(406, $"inequivalent arg 'x-message-ttl' for queue 'fresh' in vhost '{vhost}': received the value '100' of type 'signedint' but current is none",
            () => Store.DeclareQueueAsync(Queue(vhost, "fresh", args: Args(("x-message-ttl", 100))), passive: false));
        await Refused(406, $"inequivalent arg 'x-expires' for queue 'fresh' in vhost '{vhost}': received the value '6000000000' of type 'long' but current is none",
            () => Store.DeclareQueueAsync(Queue(vhost, "fresh", args: Args(("x-expires", 6_000_000_000L))), passive: false));
        await Refused(406, $"inequivalent arg 'x-single-active-consumer' for queue 'fresh' in vhost '{vhost}': received the value 'true' of type 'bool' but current is none",
            () => Store.DeclareQueueAsync(Queue(vhost, "fresh", args: Args(("x-single-active-consumer", true))), passive: false));
        await Refused(406, $"inequivalent arg 'x-queue-type' for queue 'fresh' in vhost '{vhost}': received the value 'quorum' of type 'longstr' but current is none",
            () => Store.DeclareQueueAsync(Queue(vhost, "fresh", args: Args(("x-queue-type", "quorum"))), passive: false));

        // Keys a classic queue does not know (x-delivery-limit is quorum's) are ignored.
        await Store.DeclareQueueAsync(Queue(vhost, "fresh", args: Args(("x-delivery-limit", 5), ("x-queue-type", "classic"))), passive: false);

        // An explicit "classic" equals none, both ways.
        await Store.DeclareQueueAsync(Queue(vhost, "explicit", args: Args(("x-queue-type", "classic"))), passive: false);
        await Store.DeclareQueueAsync(Queue(vhost, "explicit"), passive: false);
    }

    [Fact]
    public async Task Another_connections_exclusive_queue_is_locked()
    {
        var vhost = await NewVirtualHostAsync();
        var locked = $"cannot obtain exclusive access to locked queue 'excl' in vhost '{vhost}'. It could be originally declared on another connection "
            + "or the exclusive property value does not match that of the original declaration.";

        // Exclusive queues are never durable (rabbit_channel forces it), so durable=true redeclares equally.
        var created = await Store.DeclareQueueAsync(Queue(vhost, "excl", durable: true, owner: "conn-1"), passive: false);
        Assert.False(created.Durable);
        Assert.Equal("conn-1", created.ExclusiveOwner);
        await Store.DeclareQueueAsync(Queue(vhost, "excl", durable: false, owner: "conn-1"), passive: false);

        await Refused(405, locked, () => Store.DeclareQueueAsync(Queue(vhost, "excl", durable: false, owner: "conn-2"), passive: false));
        await Refused(405, locked, () => Store.DeclareQueueAsync(Queue(vhost, "excl", durable: false), passive: false));
        await Refused(405, locked, () => Store.DeclareQueueAsync(Queue(vhost, "excl", owner: "conn-2"), passive: true));
        await Refused(405, locked, () => Store.DeclareQueueAsync(Queue(vhost, "excl"), passive: true));
        Assert.Equal(created.Topic, (await Store.DeclareQueueAsync(Queue(vhost, "excl", owner: "conn-1"), passive: true)).Topic);

        // A shared queue redeclared as exclusive is refused the same way; a passive look from anyone is fine.
        await Store.DeclareQueueAsync(Queue(vhost, "shared"), passive: false);
        await Refused(405, locked.Replace("'excl'", "'shared'", StringComparison.Ordinal),
            () => Store.DeclareQueueAsync(Queue(vhost, "shared", durable: false, owner: "conn-1"), passive: false));
        await Store.DeclareQueueAsync(Queue(vhost, "shared", owner: "conn-1"), passive: true);
    }

    [Fact]
    public async Task Passive_queue_declare_of_a_missing_queue_is_404()
    {
        var vhost = await NewVirtualHostAsync();
        await Refused(404, $"no queue 'missing' in vhost '{vhost}'", () => Store.DeclareQueueAsync(Queue(vhost, "missing"), passive: true));

        var created = await Store.DeclareQueueAsync(Queue(vhost, "there", args: Args(("x-max-length", 5))), passive: false);
        var found = await Store.DeclareQueueAsync(Queue(vhost, "there", durable: false), passive: true);
        Assert.Equal(created.Topic, found.Topic);
        Assert.Equal(5, found.Arguments["x-max-length"]!.GetValue<int>());
    }

    [Fact]
    public async Task Amq_prefixed_queue_names_are_reserved_and_an_empty_name_is_server_named()
    {
        var vhost = await NewVirtualHostAsync();
        await Refused(403, "queue name 'amq.q' contains reserved prefix 'amq.*'", () => Store.DeclareQueueAsync(Queue(vhost, "amq.q"), passive: false));

        var named = await Store.DeclareQueueAsync(Queue(vhost, "", durable: false, owner: "conn-1"), passive: false);
        Assert.Matches("^amq\\.gen-[A-Za-z0-9_-]{22}$", named.Name);
        Assert.Equal(named.Topic, (await Store.GetQueueAsync(vhost, named.Name))!.Topic);

        // Even the server's own names cannot be declared by a client.
        await Refused(403, $"queue name '{named.Name}' contains reserved prefix 'amq.*'",
            () => Store.DeclareQueueAsync(Queue(vhost, named.Name, durable: false, owner: "conn-1"), passive: false));
    }

    [Fact]
    public async Task Quorum_queues_must_be_durable_shared_and_not_auto_delete()
    {
        var vhost = await NewVirtualHostAsync();
        var quorum = Args(("x-queue-type", "quorum"));
        string Where(string name) => $"queue '{name}' in vhost '{vhost}'";

        await Refused(406, $"invalid property 'non-durable' for {Where("qq")}",
            () => Store.DeclareQueueAsync(Queue(vhost, "qq", durable: false, args: quorum), passive: false));
        await Refused(406, $"invalid property 'auto-delete' for {Where("qq")}",
            () => Store.DeclareQueueAsync(Queue(vhost, "qq", autoDelete: true, args: Args(("x-queue-type", "quorum"))), passive: false));
        await Refused(406, $"invalid property 'exclusive-owner' for {Where("qq")}",
            () => Store.DeclareQueueAsync(Queue(vhost, "qq", owner: "conn-1", args: Args(("x-queue-type", "quorum"))), passive: false));
        await Refused(406, $"invalid arg 'x-max-priority' for {Where("qq")} of queue type rabbit_quorum_queue",
            () => Store.DeclareQueueAsync(Queue(vhost, "qq", args: Args(("x-queue-type", "quorum"), ("x-max-priority", 5))), passive: false));
        Assert.Null(await Store.GetQueueAsync(vhost, "qq"));

        // RabbitMQ 3.10.8 accepts reject-publish-dlx on a quorum queue (later versions refuse it).
        Assert.NotNull(await Store.DeclareQueueAsync(Queue(vhost, "qq-dlx", args: Args(("x-queue-type", "quorum"), ("x-overflow", "reject-publish-dlx"))), passive: false));

        var created = await Store.DeclareQueueAsync(Queue(vhost, "qq", args: Args(("x-queue-type", "quorum"), ("x-delivery-limit", 5))), passive: false);
        Assert.Equal("quorum", created.Arguments["x-queue-type"]!.GetValue<string>());
        await Refused(406, $"inequivalent arg 'x-queue-type' for {Where("qq")}: received none but current is the value 'quorum' of type 'longstr'",
            () => Store.DeclareQueueAsync(Queue(vhost, "qq", args: Args(("x-delivery-limit", 5))), passive: false));
        await Refused(406, $"inequivalent arg 'x-delivery-limit' for {Where("qq")}: received '6' but current is '5'",
            () => Store.DeclareQueueAsync(Queue(vhost, "qq", args: Args(("x-queue-type", "quorum"), ("x-delivery-limit", 6))), passive: false));
    }

    [Fact]
    public async Task Queue_arguments_are_validated_on_creation_as_RabbitMQ_does()
    {
        var vhost = await NewVirtualHostAsync();
        var where = $"queue 'q' in vhost '{vhost}'";
        (JsonObject Args, string Text)[] cases =
        [
            (Args(("x-message-ttl", "1000")), $"invalid arg 'x-message-ttl' for {where}: {{unacceptable_type,longstr}}"),
            (Args(("x-message-ttl", -1)), $"invalid arg 'x-message-ttl' for {where}: {{value_negative,-1}}"),
            (Args(("x-expires", 0)), $"invalid arg 'x-expires' for {where}: {{value_zero,0}}"),
            (Args(("x-max-length", -5)), $"invalid arg 'x-max-length' for {where}: {{value_negative,-5}}"),
            (Args(("x-max-priority", 256)), $"invalid arg 'x-max-priority' for {where}: {{max_value_exceeded,256}}"),
            (Args(("x-overflow", "drop-tail")), $"invalid arg 'x-overflow' for {where}: invalid_overflow"),
            (Args(("x-single-active-consumer", 1)), $"invalid arg 'x-single-active-consumer' for {where}: {{unacceptable_type,signedint}}"),
            (Args(("x-queue-type", "fancy")), $"invalid arg 'x-queue-type' for {where}: \"unsupported queue type 'fancy'\""),
            (Args(("x-dead-letter-routing-key", "rk")), $"invalid arg 'x-dead-letter-routing-key' for {where}: routing_key_but_no_dlx_defined"),
            (Args(("x-dead-letter-exchange", 7)), $"invalid type 'signedint' for arg 'x-dead-letter-exchange' in {where}"),
        ];
        foreach (var (args, text) in cases)
        {
            await Refused(406, text, () => Store.DeclareQueueAsync(Queue(vhost, "q", args: args), passive: false));
        }

        Assert.Null(await Store.GetQueueAsync(vhost, "q"));
        await Store.DeclareQueueAsync(
            Queue(vhost, "q", args: Args(("x-message-ttl", 0), ("x-expires", 60000L), ("x-max-priority", 10), ("x-overflow", "reject-publish"),
                ("x-dead-letter-exchange", "dlx"), ("x-dead-letter-routing-key", "rk"), ("x-queue-mode", "lazy"))),
            passive: false);
    }

    [Fact]
    public async Task Deleting_a_queue_removes_its_bindings()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareQueueAsync(Queue(vhost, "q"), passive: false);
        await Store.DeclareQueueAsync(Queue(vhost, "keep"), passive: false);
        await Store.BindAsync(QueueBinding(vhost, "amq.direct", "q", "a"));
        await Store.BindAsync(QueueBinding(vhost, "amq.topic", "q", "b.#"));
        await Store.BindAsync(QueueBinding(vhost, "amq.direct", "keep", "a"));

        var before = await CurrentRevisionAsync();
        var deleted = await Store.DeleteQueueAsync(vhost, "q");
        Assert.Equal("q", deleted!.Name);

        var bindings = (await Store.GetSnapshotAsync()).Bindings.Where(b => b.VirtualHost == vhost).ToList();
        Assert.Equal("keep", Assert.Single(bindings).Destination);
        Assert.Equal(["binding", "binding", "queue"], (await ChangesAfterAsync(before)).Select(c => c.Entity));
        Assert.All(await ChangesAfterAsync(before), c => Assert.Equal(ChangeOperation.Delete, c.Operation));
    }
}
