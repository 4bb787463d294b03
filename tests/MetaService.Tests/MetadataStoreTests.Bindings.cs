using MetaService.Contracts;

namespace MetaService.Tests;

// queue.bind / exchange.bind / unbind.
public abstract partial class MetadataStoreTests
{
    [Fact]
    public async Task Binding_needs_an_existing_source_and_destination()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareQueueAsync(Queue(vhost, "q"), passive: false);
        await Store.DeclareExchangeAsync(Exchange(vhost, "x"), passive: false);

        await Refused(404, $"no exchange 'nx' in vhost '{vhost}'", () => Store.BindAsync(QueueBinding(vhost, "nx", "q")));
        await Refused(404, $"no queue 'nq' in vhost '{vhost}'", () => Store.BindAsync(QueueBinding(vhost, "x", "nq")));
        await Refused(404, $"no exchange 'ny' in vhost '{vhost}'", () => Store.BindAsync(ExchangeBinding(vhost, "x", "ny")));

        // Both missing: the source is reported.
        await Refused(404, $"no exchange 'nx' in vhost '{vhost}'", () => Store.BindAsync(QueueBinding(vhost, "nx", "nq")));
        Assert.DoesNotContain((await Store.GetSnapshotAsync()).Bindings, b => b.VirtualHost == vhost);
    }

    [Fact]
    public async Task Binding_is_idempotent_and_bindings_differ_by_key_and_arguments()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareQueueAsync(Queue(vhost, "q"), passive: false);
        await Store.DeclareExchangeAsync(Exchange(vhost, "h", "headers"), passive: false);

        var before = await CurrentRevisionAsync();
        await Store.BindAsync(QueueBinding(vhost, "h", "q", "", Args(("x-match", "all"), ("a", 1), ("b", "two"))));
        await Store.BindAsync(QueueBinding(vhost, "h", "q", "", Args(("b", "two"), ("a", 1L), ("x-match", "all")))); // same table, other order
        Assert.Single(await ChangesAfterAsync(before));

        await Store.BindAsync(QueueBinding(vhost, "h", "q", "", Args(("x-match", "any"), ("a", 1), ("b", "two"))));
        await Store.BindAsync(QueueBinding(vhost, "h", "q", "other-key", Args(("x-match", "all"), ("a", 1), ("b", "two"))));
        await Store.BindAsync(ExchangeBinding(vhost, "amq.fanout", "h"));

        var bindings = (await Store.GetSnapshotAsync()).Bindings.Where(b => b.VirtualHost == vhost).ToList();
        Assert.Equal(4, bindings.Count);
        Assert.Single(bindings, b => b.DestinationType == BindingDestinationType.Exchange && b.Source == "amq.fanout" && b.Destination == "h");

        var first = bindings.First(b => b.RoutingKey == "" && b.Arguments["x-match"]!.GetValue<string>() == "all");
        Assert.Equal(1, first.Arguments["a"]!.GetValue<int>());
        Assert.Equal("two", first.Arguments["b"]!.GetValue<string>());

        // Unbinding needs the same key and arguments; a missing binding is fine.
        await Store.UnbindAsync(QueueBinding(vhost, "h", "q", "", Args(("a", 1), ("x-match", "all"))));
        Assert.Equal(4, (await Store.GetSnapshotAsync()).Bindings.Count(b => b.VirtualHost == vhost));
        await Store.UnbindAsync(QueueBinding(vhost, "h", "q", "", Args(("a", 1), ("b", "two"), ("x-match", "all"))));
        Assert.Equal(3, (await Store.GetSnapshotAsync()).Bindings.Count(b => b.VirtualHost == vhost));
        await Store.UnbindAsync(QueueBinding(vhost, "missing", "gone", "k"));
        await Store.UnbindAsync(ExchangeBinding(vhost, "amq.fanout", "h"));
        Assert.Equal(2, (await Store.GetSnapshotAsync()).Bindings.Count(b => b.VirtualHost == vhost));
    }

    [Fact]
    public async Task A_headers_binding_needs_a_known_x_match()
    {
        var vhost = await NewVirtualHostAsync();
        await Store.DeclareQueueAsync(Queue(vhost, "q"), passive: false);
        await Refused(406, "Invalid x-match field value <<\"some\">>; expected all, any, all-with-x, or any-with-x",
            () => Store.BindAsync(QueueBinding(vhost, "amq.headers", "q", "", Args(("x-match", "some")))));
        await Refused(406, "Invalid x-match field type signedint (value 1); expected longstr",
            () => Store.BindAsync(QueueBinding(vhost, "amq.headers", "q", "", Args(("x-match", 1)))));
        await Store.BindAsync(QueueBinding(vhost, "amq.headers", "q", "", Args(("x-match", "any-with-x"))));
    }
}
