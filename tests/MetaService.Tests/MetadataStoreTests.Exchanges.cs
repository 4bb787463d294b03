namespace MetaService.Tests;

// exchange.declare / exchange.delete with RabbitMQ's rules and reply texts.
public abstract partial class MetadataStoreTests
{
    [Fact]
    public async Task Declaring_an_exchange_creates_it_and_an_equal_redeclare_returns_it()
    {
        var vhost = await NewVirtualHostAsync();
        var declared = await Store.DeclareExchangeAsync(Exchange(vhost, "orders", "topic", args: Args(("alternate-exchange", "ae"), ("x-other", 1))), passive: false);
        Assert.Equal("topic", declared.Type);
        Assert.Equal("ae", declared.Arguments["alternate-exchange"]!.GetValue<string>());

        var before = await CurrentRevisionAsync();
        var again = await Store.DeclareExchangeAsync(Exchange(vhost, "orders", "topic", args: Args(("alternate-exchange", "ae"))), passive: false);
        Assert.Equal("orders", again.Name);
        Assert.Equal(before, await CurrentRevisionAsync()); // nothing changed, nothing logged

        var stored = await Store.GetExchangeAsync(vhost, "orders");
        Assert.NotNull(stored);
        Assert.Equal((true, false, false), (stored.Durable, stored.AutoDelete, stored.Internal));
        Assert.Null(await Store.GetExchangeAsync(vhost, "missing"));
    }

    [Fact]
    public async Task Redeclaring_an_exchange_differently_is_refused_with_RabbitMQs_texts()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareExchangeAsync(Exchange(vhost, "x", "direct", args: Args(("alternate-exchange", "ae"))), passive: false);
        var where = $"exchange 'x' in vhost '{vhost}'";

        await Refused(406, $"inequivalent arg 'type' for {where}: received 'fanout' but current is 'direct'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "x", "fanout"), passive: false));
        await Refused(406, $"inequivalent arg 'durable' for {where}: received 'false' but current is 'true'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "x", durable: false, args: Args(("alternate-exchange", "ae"))), passive: false));
        await Refused(406, $"inequivalent arg 'auto_delete' for {where}: received 'true' but current is 'false'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "x", autoDelete: true, args: Args(("alternate-exchange", "ae"))), passive: false));
        await Refused(406, $"inequivalent arg 'internal' for {where}: received 'true' but current is 'false'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "x", isInternal: true, args: Args(("alternate-exchange", "ae"))), passive: false));
        await Refused(406, $"inequivalent arg 'alternate-exchange' for {where}: received 'other' but current is 'ae'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "x", args: Args(("alternate-exchange", "other"))), passive: false));
        await Refused(406, $"inequivalent arg 'alternate-exchange' for {where}: received none but current is the value 'ae' of type 'longstr'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "x"), passive: false));

        // Only alternate-exchange is compared among the arguments.
        await Store.DeclareExchangeAsync(Exchange(vhost, "x", args: Args(("alternate-exchange", "ae"), ("x-anything", true))), passive: false);

        await Store.DeclareExchangeAsync(Exchange(vhost, "plain"), passive: false);
        await Refused(406, $"inequivalent arg 'alternate-exchange' for exchange 'plain' in vhost '{vhost}': received the value 'ae' of type 'longstr' but current is none",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "plain", args: Args(("alternate-exchange", "ae"))), passive: false));
    }

    [Fact]
    public async Task Passive_exchange_declare_finds_or_is_404()
    {
        var vhost = await NewVirtualHostAsync();
        await Refused(404, $"no exchange 'missing' in vhost '{vhost}'", () => Store.DeclareExchangeAsync(Exchange(vhost, "missing"), passive: true));

        await Store.DeclareExchangeAsync(Exchange(vhost, "there", "fanout"), passive: false);

        // Passive declares compare nothing.
        var found = await Store.DeclareExchangeAsync(Exchange(vhost, "there", "topic", durable: false), passive: true);
        Assert.Equal("fanout", found.Type);
        Assert.Equal("amq.direct", (await Store.DeclareExchangeAsync(Exchange(vhost, "amq.direct", "bogus"), passive: true)).Name);
    }

    [Fact]
    public async Task The_default_exchange_cannot_be_declared_deleted_or_bound()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareQueueAsync(Queue(vhost, "q"), passive: false);
        await Store.DeclareExchangeAsync(Exchange(vhost, "x"), passive: false);
        const string text = "operation not permitted on the default exchange";

        await Refused(403, text, () => Store.DeclareExchangeAsync(Exchange(vhost, ""), passive: false));
        await Refused(403, text, () => Store.DeclareExchangeAsync(Exchange(vhost, ""), passive: true));
        await Refused(403, text, () => Store.DeleteExchangeAsync(vhost, "", ifUnused: false));
        await Refused(403, text, () => Store.BindAsync(QueueBinding(vhost, "", "q", "q")));
        await Refused(403, text, () => Store.UnbindAsync(QueueBinding(vhost, "", "q", "q")));
        await Refused(403, text, () => Store.BindAsync(ExchangeBinding(vhost, "x", "")));
    }

    [Fact]
    public async Task Amq_prefixed_exchanges_can_be_redeclared_but_not_created_or_deleted()
    {
        var vhost = await NewVirtualHostAsync();
        await Refused(403, "exchange name 'amq.foo' contains reserved prefix 'amq.*'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "amq.foo", "direct"), passive: false));

        var direct = await Store.DeclareExchangeAsync(Exchange(vhost, "amq.direct", "direct"), passive: false);
        Assert.Equal("amq.direct", direct.Name);
        await Store.DeclareExchangeAsync(Exchange(vhost, "amq.rabbitmq.trace", "topic", isInternal: true), passive: false);

        await Refused(406, $"inequivalent arg 'type' for exchange 'amq.direct' in vhost '{vhost}': received 'topic' but current is 'direct'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "amq.direct", "topic"), passive: false));
        await Refused(406, $"inequivalent arg 'internal' for exchange 'amq.rabbitmq.trace' in vhost '{vhost}': received 'false' but current is 'true'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "amq.rabbitmq.trace", "topic"), passive: false));
        await Refused(403, $"deletion of system exchange 'amq.direct' in vhost '{vhost}' not allowed",
            () => Store.DeleteExchangeAsync(vhost, "amq.direct", ifUnused: false));
    }

    [Fact]
    public async Task An_unknown_exchange_type_is_command_invalid()
    {
        var vhost = await NewVirtualHostAsync();
        await Refused(503, "unknown exchange type 'x-consistent-hash'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "hashed", "x-consistent-hash"), passive: false));

        // The type is checked before anything else, even for the default exchange (as RabbitMQ does).
        await Refused(503, "unknown exchange type 'bogus'", () => Store.DeclareExchangeAsync(Exchange(vhost, "", "bogus"), passive: false));
    }

    [Fact]
    public async Task A_delayed_message_exchange_needs_an_x_delayed_type_naming_another_known_type_only_when_created()
    {
        var vhost = await NewVirtualHostAsync();
        // rabbit_exchange_type_delayed_message:validate/1 and rabbit_exchange:check_type/1.
        await Refused(406, "Invalid argument, 'x-delayed-type' must be an existing exchange type",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message"), passive: false));
        await Refused(406, "Invalid argument, 'x-delayed-type' must be an existing exchange type",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message", args: Args(("x-delayed-type", 1))), passive: false));
        await Refused(406, "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message", args: Args(("x-delayed-type", "x-delayed-message"))), passive: false));
        await Refused(503, "unknown exchange type 'bogus'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message", args: Args(("x-delayed-type", "bogus"))), passive: false));

        var created = await Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message", args: Args(("x-delayed-type", "topic"))), passive: false);
        Assert.Equal("x-delayed-message", created.Type);
        // A redeclare runs the x-delayed-type's equivalence (alternate-exchange only), not validate/1.
        await Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message"), passive: false);
        await Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message", args: Args(("x-delayed-type", "fanout"))), passive: false);
        await Refused(406, $"inequivalent arg 'alternate-exchange' for exchange 'd' in vhost '{vhost}': received the value 'ae' of type 'longstr' but current is none",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "d", "x-delayed-message", args: Args(("alternate-exchange", "ae"))), passive: false));
    }

    [Fact]
    public async Task A_non_string_alternate_exchange_is_refused()
    {
        var vhost = await NewVirtualHostAsync();
        await Refused(406, $"invalid type 'signedint' for arg 'alternate-exchange' in exchange 'x' in vhost '{vhost}'",
            () => Store.DeclareExchangeAsync(Exchange(vhost, "x", args: Args(("alternate-exchange", 5))), passive: false));
    }

    [Fact]
    public async Task Declaring_in_a_missing_vhost_is_404()
    {
        await Refused(404, "no vhost 'nowhere'", () => Store.DeclareExchangeAsync(Exchange("nowhere", "x"), passive: false));
        await Refused(404, "no vhost 'nowhere'", () => Store.DeclareQueueAsync(Queue("nowhere", "q"), passive: false));
    }

    [Fact]
    public async Task Deleting_an_exchange_removes_its_bindings_and_if_unused_refuses_a_bound_source()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareExchangeAsync(Exchange(vhost, "src", "fanout"), passive: false);
        await Store.DeclareExchangeAsync(Exchange(vhost, "mid", "fanout"), passive: false);
        await Store.DeclareQueueAsync(Queue(vhost, "q"), passive: false);
        await Store.BindAsync(ExchangeBinding(vhost, "src", "mid"));
        await Store.BindAsync(QueueBinding(vhost, "mid", "q"));

        await Store.DeleteExchangeAsync(vhost, "missing", ifUnused: true); // a missing exchange is fine
        await Refused(406, $"exchange 'mid' in vhost '{vhost}' in use", () => Store.DeleteExchangeAsync(vhost, "mid", ifUnused: true));

        await Store.DeleteQueueAsync(vhost, "q");

        // Now mid is only a destination: not "in use" for if-unused.
        await Store.DeleteExchangeAsync(vhost, "mid", ifUnused: true);
        Assert.Null(await Store.GetExchangeAsync(vhost, "mid"));
        Assert.DoesNotContain((await Store.GetSnapshotAsync()).Bindings, b => b.VirtualHost == vhost);
        Assert.NotNull(await Store.GetExchangeAsync(vhost, "src"));

        await Store.BindAsync(ExchangeBinding(vhost, "amq.fanout", "src"));
        await Store.DeleteExchangeAsync(vhost, "src", ifUnused: false);
        Assert.DoesNotContain((await Store.GetSnapshotAsync()).Bindings, b => b.VirtualHost == vhost);
    }

    [Fact]
    public async Task An_auto_delete_exchange_goes_with_its_last_binding()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareExchangeAsync(Exchange(vhost, "temp", "fanout", autoDelete: true), passive: false);
        await Store.DeclareQueueAsync(Queue(vhost, "a"), passive: false);
        await Store.DeclareQueueAsync(Queue(vhost, "b"), passive: false);
        await Store.BindAsync(QueueBinding(vhost, "temp", "a"));
        await Store.BindAsync(QueueBinding(vhost, "temp", "b"));

        await Store.UnbindAsync(QueueBinding(vhost, "temp", "a"));
        Assert.NotNull(await Store.GetExchangeAsync(vhost, "temp"));

        // Deleting the queue removes the last binding, and with it the exchange.
        var before = await CurrentRevisionAsync();
        await Store.DeleteQueueAsync(vhost, "b");
        Assert.Null(await Store.GetExchangeAsync(vhost, "temp"));
        Assert.Equal(["binding", "queue", "exchange"], (await ChangesAfterAsync(before)).Select(c => c.Entity));

        // Unbinding the last binding also deletes it, and the deletion cascades through exchange-to-exchange bindings.
        await Store.DeclareExchangeAsync(Exchange(vhost, "outer", "fanout", autoDelete: true), passive: false);
        await Store.DeclareExchangeAsync(Exchange(vhost, "inner", "fanout", autoDelete: true), passive: false);
        await Store.BindAsync(ExchangeBinding(vhost, "outer", "inner"));
        await Store.BindAsync(QueueBinding(vhost, "inner", "a"));
        await Store.UnbindAsync(QueueBinding(vhost, "inner", "a"));
        Assert.Null(await Store.GetExchangeAsync(vhost, "inner"));
        Assert.Null(await Store.GetExchangeAsync(vhost, "outer"));
    }
}
