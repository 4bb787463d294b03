using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Gateway.Protocol.Types;

/// <summary>
/// An AMQP field table with its entries in wire order, so decode → encode reproduces the bytes
/// (RabbitMQ.Client 7 reads back headers such as x-dotnet-pub-seq-no from basic.return).
/// Values are CLR types chosen per RabbitMQ's type letters (see <see cref="FieldTableCodec"/>).
/// </summary>
public sealed class FieldTable : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly List<KeyValuePair<string, object?>> _entries;

    public FieldTable() => _entries = [];

    public FieldTable(IEnumerable<KeyValuePair<string, object?>> entries) => _entries = [.. entries];

    public int Count => _entries.Count;

    public KeyValuePair<string, object?> this[int index] => _entries[index];

    /// <summary>Last value for the key (a duplicated key on the wire resolves like a map insert would).</summary>
    public object? this[string key]
    {
        get => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);
        set
        {
            var index = _entries.FindIndex(e => e.Key == key);
            if (index >= 0)
            {
                _entries[index] = new(key, value);
            }
            else
            {
                _entries.Add(new(key, value));
            }
        }
    }

    public void Add(string key, object? value) => _entries.Add(new(key, value));

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == key)
            {
                value = _entries[i].Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
