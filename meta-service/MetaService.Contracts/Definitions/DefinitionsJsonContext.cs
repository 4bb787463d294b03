using System.Text.Json;
using System.Text.Json.Serialization;

namespace MetaService.Contracts.Definitions;

/// <summary>
/// Source-generated (trim- and AOT-safe) JSON metadata for <see cref="RabbitMqDefinitions"/>. Property
/// names are RabbitMQ's, given on each property; nulls are left out on writing, as RabbitMQ leaves out
/// what a version does not know.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(RabbitMqDefinitions))]
public sealed partial class DefinitionsJsonContext : JsonSerializerContext
{
    private static DefinitionsJsonContext? _indented;

    /// <summary>The same metadata, writing indented JSON.</summary>
    public static DefinitionsJsonContext Indented =>
        _indented ??= new DefinitionsJsonContext(new JsonSerializerOptions(Default.Options) { WriteIndented = true });
}

/// <summary>
/// Tags as RabbitMQ writes them in either version: a JSON array of strings, or one comma-separated
/// string ("monitoring,management"). Empty entries and surrounding blanks are dropped.
/// </summary>
public abstract class TagsConverterBase : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            case JsonTokenType.StartArray:
                var tags = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new JsonException("tags must be strings");
                    }

                    var tag = reader.GetString()!.Trim();
                    if (tag.Length > 0)
                    {
                        tags.Add(tag);
                    }
                }

                return tags;
            default:
                throw new JsonException("tags must be an array of strings or a comma-separated string");
        }
    }
}

/// <summary>Reads <see cref="TagsConverterBase">either tags form</see>; writes the comma-separated string (user tags, RabbitMQ 3.x import reads it in every version).</summary>
public sealed class CommaSeparatedTagsConverter : TagsConverterBase
{
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(string.Join(',', value));
    }
}

/// <summary>Reads <see cref="TagsConverterBase">either tags form</see>; writes an array (vhost tags: 3.10 keeps a string as one tag).</summary>
public sealed class TagListConverter : TagsConverterBase
{
    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var tag in value)
        {
            writer.WriteStringValue(tag);
        }

        writer.WriteEndArray();
    }
}
