using System.Text.Json;
using System.Text.Json.Nodes;
using MetaService.Contracts;
using MetaService.Core.Model;

namespace MetaService.Core;

/// <summary>Entity ↔ contract record conversions, and the JSON a record takes in the change log.</summary>
internal static class RecordMapping
{
    public const string QueueDestination = "queue";
    public const string ExchangeDestination = "exchange";

    public static VirtualHostRecord ToRecord(this VirtualHost v) => new(v.Name, v.Description, ReadTags(v.Tags));

    public static UserRecord ToRecord(this User u) => new(u.Name, u.PasswordHash, u.HashingAlgorithm, ReadTags(u.Tags));

    public static PermissionRecord ToRecord(this Permission p) => new(p.User, p.VirtualHost, p.Configure, p.Write, p.Read);

    public static ExchangeRecord ToRecord(this Exchange e) =>
        new(e.VirtualHost, e.Name, e.Type, e.Durable, e.AutoDelete, e.Internal, ReadObject(e.Arguments));

    public static QueueRecord ToRecord(this Queue q) =>
        new(q.VirtualHost, q.Name, q.Durable, q.AutoDelete, ReadObject(q.Arguments), q.ExclusiveOwner, q.Topic);

    public static BindingRecord ToRecord(this Binding b) =>
        new(b.VirtualHost, b.Source, b.Destination, ParseDestinationType(b.DestinationType), b.RoutingKey, ReadObject(b.Arguments));

    public static PolicyRecord ToRecord(this Policy p) =>
        new(p.VirtualHost, p.Name, p.Pattern, p.ApplyTo, p.Priority, ReadObject(p.Definition));

    public static string DestinationTypeText(BindingDestinationType type) =>
        type == BindingDestinationType.Exchange ? ExchangeDestination : QueueDestination;

    public static BindingDestinationType ParseDestinationType(string text) =>
        text == ExchangeDestination ? BindingDestinationType.Exchange : BindingDestinationType.Queue;

    public static string WriteTags(IReadOnlyList<string>? tags) => JsonSerializer.Serialize(tags ?? []);

    public static IReadOnlyList<string> ReadTags(string json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<string[]>(json) ?? [];

    public static JsonObject ReadObject(string json) =>
        string.IsNullOrEmpty(json) ? [] : JsonNode.Parse(json) as JsonObject ?? [];

    /// <summary>
    /// The change-log form of a record: the record serialised with <see cref="JsonSerializerOptions.Web"/>
    /// (camelCase names), so a follower reads it back with
    /// <c>change.Value.Deserialize&lt;QueueRecord&gt;(JsonSerializerOptions.Web)</c>.
    /// </summary>
    public static JsonObject ToChangeValue<T>(T record) =>
        JsonSerializer.SerializeToNode(record, JsonSerializerOptions.Web)?.AsObject() ?? [];
}
