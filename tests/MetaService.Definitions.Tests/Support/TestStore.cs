using MetaService.Contracts;
using MetaService.Core;
using Microsoft.Data.Sqlite;

namespace MetaService.Definitions.Tests.Support;

/// <summary>
/// A store for one test: the real <see cref="EfMetadataStore"/> on a fresh SQLite file (the embedded
/// default), deleted with the test.
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    private readonly Func<ValueTask>? _dispose;

    private TestStore(IMetadataStore store, Func<ValueTask>? dispose = null)
    {
        Store = store;
        _dispose = dispose;
    }

    public IMetadataStore Store { get; }

    public static async Task<TestStore> CreateAsync()
    {
        var directory = Directory.CreateTempSubdirectory("defs-tests-");
        var store = await MetadataStoreFactory.CreateAsync(Path.Combine(directory.FullName, "meta.db"), MetadataProvider.Sqlite);
        return new TestStore(store, () =>
        {
            SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
            return ValueTask.CompletedTask;
        });
    }

    public async Task<long> RevisionAsync() => (await Store.GetSnapshotAsync()).Revision;

    public ValueTask DisposeAsync() => _dispose?.Invoke() ?? ValueTask.CompletedTask;
}
