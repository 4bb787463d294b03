using System.Text.Json.Nodes;
using MetaService.Contracts;

namespace MetaService.Core;

/// <summary>The changes one write transaction makes, in order; appended to the change log before it commits.</summary>
internal sealed class ChangeSet
{
    private readonly List<(string Entity, ChangeOperation Operation, JsonObject Value)> _changes = [];

    public int Count => _changes.Count;

    public IReadOnlyList<(string Entity, ChangeOperation Operation, JsonObject Value)> Items => _changes;

    public void Upsert<T>(string entity, T record) => _changes.Add((entity, ChangeOperation.Upsert, RecordMapping.ToChangeValue(record)));

    public void Delete<T>(string entity, T record) => _changes.Add((entity, ChangeOperation.Delete, RecordMapping.ToChangeValue(record)));
}
