using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MetaService.Contracts.Definitions;

namespace MetaService.Contracts.Http;

/// <summary>
/// Source-generated (trim- and AOT-safe) JSON metadata for every body of the metadata service's HTTP
/// API, shared by the service and <see cref="MetaServiceClient"/> so both sides agree on the wire
/// format: snake_case property names and enum values (<c>"destination_type": "queue"</c>,
/// <c>"operation": "upsert"</c>), nulls omitted. Bodies are checked as they are read: a missing
/// constructor parameter without a default, or a null where the record's type says non-null, is a
/// <see cref="JsonException"/> (the service answers 400), never a record with a null inside.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(SnakeCaseEnumConverter<BindingDestinationType>), typeof(SnakeCaseEnumConverter<ChangeOperation>)])]
[JsonSerializable(typeof(VirtualHostRecord))]
[JsonSerializable(typeof(IReadOnlyList<VirtualHostRecord>))]
[JsonSerializable(typeof(UserRecord))]
[JsonSerializable(typeof(PermissionRecord))]
[JsonSerializable(typeof(IReadOnlyList<PermissionRecord>))]
[JsonSerializable(typeof(ExchangeRecord))]
[JsonSerializable(typeof(IReadOnlyList<ExchangeRecord>))]
[JsonSerializable(typeof(QueueRecord))]
[JsonSerializable(typeof(IReadOnlyList<QueueRecord>))]
[JsonSerializable(typeof(BindingRecord))]
[JsonSerializable(typeof(IReadOnlyList<BindingRecord>))]
[JsonSerializable(typeof(PolicyRecord))]
[JsonSerializable(typeof(IReadOnlyList<PolicyRecord>))]
[JsonSerializable(typeof(MetadataSnapshot))]
[JsonSerializable(typeof(MetadataChange))]
[JsonSerializable(typeof(ChangeBatch))]
[JsonSerializable(typeof(VirtualHostBody))]
[JsonSerializable(typeof(UserBody))]
[JsonSerializable(typeof(UserView))]
[JsonSerializable(typeof(IReadOnlyList<UserView>))]
[JsonSerializable(typeof(PermissionBody))]
[JsonSerializable(typeof(ExchangeBody))]
[JsonSerializable(typeof(QueueBody))]
[JsonSerializable(typeof(PolicyBody))]
[JsonSerializable(typeof(ApiProblem))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(DefinitionsImportResult))]
public sealed partial class MetaServiceJsonContext : JsonSerializerContext;

/// <summary>Enum values as snake_case strings; integers are refused so a typo cannot pass as a number.</summary>
public sealed class SnakeCaseEnumConverter<TEnum> : JsonStringEnumConverter<TEnum>
    where TEnum : struct, Enum
{
    public SnakeCaseEnumConverter()
        : base(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    {
    }
}

/// <summary>User tags as a JSON array, or as RabbitMQ's comma-separated string ("administrator,monitoring").</summary>
public sealed class TagsJsonConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString()!
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            case JsonTokenType.StartArray:
                var tags = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new JsonException("tags must be strings");
                    }

                    tags.Add(reader.GetString()!);
                }

                return tags;
            default:
                throw new JsonException("tags must be an array of strings or a comma-separated string");
        }
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var tag in value)
        {
            writer.WriteStringValue(tag);
        }

        writer.WriteEndArray();
    }
}
