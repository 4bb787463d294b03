using System.Text.Json.Nodes;
using MetaService.Contracts;
using MetaService.Core;

namespace MetaService.Tests;

/// <summary>
/// The behaviour of <see cref="EfMetadataStore"/>, written once and run on each provider by a subclass
/// (<see cref="SqliteMetadataStoreTests"/>, <see cref="PostgresMetadataStoreTests"/>). Tests share a
/// database per class, so each works in vhosts of its own.
/// </summary>
public abstract partial class MetadataStoreTests : IAsyncLifetime
{
    private string _connectionString = "";

    protected EfMetadataStore Store { get; private set; } = null!;

    protected abstract MetadataProvider Provider { get; }

    /// <summary>The connection string (or SQLite path) of the database these tests share.</summary>
    protected abstract Task<string> SharedDatabaseAsync();

    /// <summary>A new, empty database.</summary>
    protected abstract Task<string> NewDatabaseAsync();

    /// <summary>
    /// The same database spelled differently, so a store opened with it shares no in-process change
    /// notification with <see cref="Store"/>: as another meta-service process would be.
    /// </summary>
    protected abstract Task<string> AsAnotherProcessAsync(string connectionString);

    public async Task InitializeAsync()
    {
        _connectionString = await SharedDatabaseAsync();
        Store = await OpenStoreAsync();
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected string ConnectionString => _connectionString;

    /// <summary>A new store (new contexts and connections) on the shared database, or on another one.</summary>
    protected Task<EfMetadataStore> OpenStoreAsync(MetadataStoreOptions? options = null, string? connectionString = null) =>
        MetadataStoreFactory.CreateAsync(connectionString ?? _connectionString, Provider, options);

    protected async Task<string> NewVirtualHostAsync()
    {
        var name = "v-" + Guid.NewGuid().ToString("N")[..10];
        await Store.PutVirtualHostAsync(new VirtualHostRecord(name));
        return name;
    }

    protected static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    protected static JsonObject Args(params (string Key, JsonNode? Value)[] pairs)
    {
        var args = new JsonObject();
        foreach (var (key, value) in pairs)
        {
            args[key] = value;
        }

        return args;
    }

    protected static QueueRecord Queue(
        string vhost,
        string name,
        bool durable = true,
        bool autoDelete = false,
        JsonObject? args = null,
        string? owner = null) =>
        new(vhost, name, durable, autoDelete, args ?? [], owner);

    protected static ExchangeRecord Exchange(
        string vhost,
        string name,
        string type = "direct",
        bool durable = true,
        bool autoDelete = false,
        bool isInternal = false,
        JsonObject? args = null) =>
        new(vhost, name, type, durable, autoDelete, isInternal, args ?? []);

    protected static BindingRecord QueueBinding(string vhost, string exchange, string queue, string key = "", JsonObject? args = null) =>
        new(vhost, exchange, queue, BindingDestinationType.Queue, key, args ?? []);

    protected static BindingRecord ExchangeBinding(string vhost, string source, string destination, string key = "", JsonObject? args = null) =>
        new(vhost, source, destination, BindingDestinationType.Exchange, key, args ?? []);

    /// <summary>Asserts a refusal with RabbitMQ's reply code and exact explanation.</summary>
    protected static async Task<MetadataException> Refused(ushort replyCode, string explanation, Func<Task> action)
    {
        var refusal = await Assert.ThrowsAsync<MetadataException>(action);
        Assert.Equal(explanation, refusal.Message);
        Assert.Equal(replyCode, refusal.ReplyCode);
        return refusal;
    }

    protected async Task<long> CurrentRevisionAsync() => (await Store.GetSnapshotAsync()).Revision;

    /// <summary>Every change after <paramref name="after"/>, following batches to the end of the log.</summary>
    protected async Task<List<MetadataChange>> ChangesAfterAsync(long after, EfMetadataStore? store = null)
    {
        store ??= Store;
        var all = new List<MetadataChange>();
        while (true)
        {
            var batch = await store.GetChangesAsync(after, TimeSpan.Zero);
            if (batch.Changes.Count == 0)
            {
                return all;
            }

            all.AddRange(batch.Changes);
            after = batch.Revision;
        }
    }
}
