using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MetaService.Contracts.Definitions;

/// <summary>
/// RabbitMQ's definitions document, the JSON that <c>rabbitmqctl export_definitions</c> and the management
/// API's <c>GET /api/definitions</c> produce and their import counterparts read. Every section is optional
/// on input and defaults to empty. Fields this model does not name are kept in each object's
/// <c>ExtensionData</c>, so a parsed document serializes back without losing them.
/// </summary>
/// <remarks>
/// Version differences accepted on input: user and vhost <c>tags</c> as a comma-separated string (RabbitMQ
/// up to 3.9, and vhost tags set with <c>rabbitmqctl add_vhost --tags</c> in 3.10) or as an array (3.10+
/// user tags); vhost description and tags inside <c>metadata</c> (3.10) or at the top level (3.11+); vhost
/// <c>limits</c> as a list of pairs (3.10) or an object; a user without <c>hashing_algorithm</c>
/// (exports older than 3.6, whose hashes are MD5).
/// </remarks>
public sealed class RabbitMqDefinitions
{
    /// <summary>The RabbitMQ version that wrote the document (both names appear in exports).</summary>
    [JsonPropertyName("rabbit_version")]
    public string? RabbitVersion { get; init; }

    [JsonPropertyName("rabbitmq_version")]
    public string? RabbitMqVersion { get; init; }

    /// <summary>Present in exports of RabbitMQ 3.8.10+ made through the management API.</summary>
    [JsonPropertyName("product_name")]
    public string? ProductName { get; init; }

    [JsonPropertyName("product_version")]
    public string? ProductVersion { get; init; }

    [JsonPropertyName("users")]
    public IList<DefinitionUser> Users { get; set; } = [];

    [JsonPropertyName("vhosts")]
    public IList<DefinitionVirtualHost> VirtualHosts { get; set; } = [];

    [JsonPropertyName("permissions")]
    public IList<DefinitionPermission> Permissions { get; set; } = [];

    [JsonPropertyName("topic_permissions")]
    public IList<DefinitionTopicPermission> TopicPermissions { get; set; } = [];

    /// <summary>Vhost-scoped runtime parameters (vhost limits, operator policies, shovels, federation upstreams, …).</summary>
    [JsonPropertyName("parameters")]
    public IList<DefinitionParameter> Parameters { get; set; } = [];

    /// <summary>Cluster-wide runtime parameters (cluster_name, internal_cluster_id, …).</summary>
    [JsonPropertyName("global_parameters")]
    public IList<DefinitionGlobalParameter> GlobalParameters { get; set; } = [];

    [JsonPropertyName("policies")]
    public IList<DefinitionPolicy> Policies { get; set; } = [];

    [JsonPropertyName("queues")]
    public IList<DefinitionQueue> Queues { get; set; } = [];

    [JsonPropertyName("exchanges")]
    public IList<DefinitionExchange> Exchanges { get; set; } = [];

    [JsonPropertyName("bindings")]
    public IList<DefinitionBinding> Bindings { get; set; } = [];

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }

    /// <summary>Parses a definitions document. Throws <see cref="JsonException"/> when it is not one.</summary>
    public static RabbitMqDefinitions Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Checked(JsonSerializer.Deserialize(json, DefinitionsJsonContext.Default.RabbitMqDefinitions));
    }

    /// <inheritdoc cref="Parse(string)"/>
    public static RabbitMqDefinitions Parse(ReadOnlySpan<byte> utf8Json) =>
        Checked(JsonSerializer.Deserialize(utf8Json, DefinitionsJsonContext.Default.RabbitMqDefinitions));

    /// <summary>Reads a definitions document from a JSON node (as the HTTP API receives it).</summary>
    public static RabbitMqDefinitions FromJsonNode(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Checked(node.Deserialize(DefinitionsJsonContext.Default.RabbitMqDefinitions));
    }

    /// <summary>Reads a definitions document from a UTF-8 JSON stream (a file, a request body).</summary>
    public static async Task<RabbitMqDefinitions> ReadAsync(Stream utf8Json, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        return Checked(await JsonSerializer.DeserializeAsync(
            utf8Json, DefinitionsJsonContext.Default.RabbitMqDefinitions, cancellationToken));
    }

    /// <summary>The document as JSON text (indented by default, as files are usually kept).</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, Context(indented).RabbitMqDefinitions);

    /// <summary>Writes the document as UTF-8 JSON.</summary>
    public Task WriteAsync(Stream utf8Json, bool indented = true, CancellationToken cancellationToken = default) =>
        JsonSerializer.SerializeAsync(utf8Json, this, Context(indented).RabbitMqDefinitions, cancellationToken);

    /// <summary>The document as a JSON object (as the HTTP API sends it).</summary>
    public JsonObject ToJsonObject() =>
        JsonSerializer.SerializeToNode(this, DefinitionsJsonContext.Default.RabbitMqDefinitions)!.AsObject();

    private static DefinitionsJsonContext Context(bool indented) =>
        indented ? DefinitionsJsonContext.Indented : DefinitionsJsonContext.Default;

    private static RabbitMqDefinitions Checked(RabbitMqDefinitions? definitions)
    {
        if (definitions is null)
        {
            throw new JsonException("a definitions document must be a JSON object, not null");
        }

        foreach (var list in new IEnumerable<object?>[]
        {
            definitions.Users, definitions.VirtualHosts, definitions.Permissions, definitions.TopicPermissions,
            definitions.Parameters, definitions.GlobalParameters, definitions.Policies, definitions.Queues,
            definitions.Exchanges, definitions.Bindings,
        })
        {
            if (list is null || list.Any(item => item is null))
            {
                throw new JsonException("definitions sections must be arrays of objects, not null");
            }
        }

        return definitions;
    }
}

/// <summary>An entry of <c>users</c>.</summary>
public sealed record DefinitionUser
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>base64(salt ‖ hash); empty for a user that cannot log in with a password.</summary>
    [JsonPropertyName("password_hash")]
    public string PasswordHash { get; init; } = "";

    /// <summary>RabbitMQ's hashing module name; null in exports older than 3.6 (their hashes are MD5).</summary>
    [JsonPropertyName("hashing_algorithm")]
    public string? HashingAlgorithm { get; init; }

    /// <summary>Read from an array or a comma-separated string; written as the comma-separated string.</summary>
    [JsonPropertyName("tags")]
    [JsonConverter(typeof(CommaSeparatedTagsConverter))]
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Per-user limits (max-connections, max-channels), 3.8.10+.</summary>
    [JsonPropertyName("limits")]
    public JsonObject? Limits { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }

    /// <summary>The hashing algorithm, defaulting as RabbitMQ does for users without one (MD5).</summary>
    public string EffectiveHashingAlgorithm() =>
        string.IsNullOrEmpty(HashingAlgorithm) ? RabbitPasswordHashing.Md5 : HashingAlgorithm;
}

/// <summary>An entry of <c>vhosts</c>.</summary>
public sealed record DefinitionVirtualHost
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>Top-level description (3.11+); 3.10 keeps it in <see cref="Metadata"/>.</summary>
    [JsonPropertyName("description")]
    public string? Description { get; init; }

    /// <summary>Top-level tags (3.11+); 3.10 keeps them in <see cref="Metadata"/>.</summary>
    [JsonPropertyName("tags")]
    [JsonConverter(typeof(TagListConverter))]
    public IReadOnlyList<string>? Tags { get; init; }

    [JsonPropertyName("default_queue_type")]
    public string? DefaultQueueType { get; init; }

    [JsonPropertyName("metadata")]
    public DefinitionVirtualHostMetadata? Metadata { get; init; }

    /// <summary>Vhost limits: a list of [name, value] pairs in 3.10, an object in other versions.</summary>
    [JsonPropertyName("limits")]
    public JsonNode? Limits { get; init; }

    [JsonPropertyName("tracing")]
    public bool? Tracing { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }

    /// <summary>The description wherever the document's version keeps it, or null.</summary>
    public string? EffectiveDescription() => Description ?? Metadata?.Description;

    /// <summary>The tags wherever the document's version keeps them, or null when it has none.</summary>
    public IReadOnlyList<string>? EffectiveTags() => Tags ?? Metadata?.Tags;

    /// <summary>True when the vhost carries limits (max-connections, max-queues) that are not empty.</summary>
    public bool HasLimits() => Limits switch
    {
        JsonArray array => array.Count > 0,
        JsonObject obj => obj.Count > 0,
        _ => false,
    };
}

/// <summary>The <c>metadata</c> object of a vhost (RabbitMQ 3.8+).</summary>
public sealed record DefinitionVirtualHostMetadata
{
    [JsonPropertyName("description")]
    public string? Description { get; init; }

    [JsonPropertyName("tags")]
    [JsonConverter(typeof(TagListConverter))]
    public IReadOnlyList<string>? Tags { get; init; }

    [JsonPropertyName("default_queue_type")]
    public string? DefaultQueueType { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>permissions</c>: a user's configure / write / read regexes in a vhost.</summary>
public sealed record DefinitionPermission
{
    [JsonPropertyName("user")]
    public required string User { get; init; }

    [JsonPropertyName("vhost")]
    public required string VirtualHost { get; init; }

    [JsonPropertyName("configure")]
    public string Configure { get; init; } = "";

    [JsonPropertyName("write")]
    public string Write { get; init; } = "";

    [JsonPropertyName("read")]
    public string Read { get; init; } = "";

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>topic_permissions</c>: write / read regexes on routing keys of one topic exchange.</summary>
public sealed record DefinitionTopicPermission
{
    [JsonPropertyName("user")]
    public required string User { get; init; }

    [JsonPropertyName("vhost")]
    public required string VirtualHost { get; init; }

    [JsonPropertyName("exchange")]
    public required string Exchange { get; init; }

    [JsonPropertyName("write")]
    public string Write { get; init; } = "";

    [JsonPropertyName("read")]
    public string Read { get; init; } = "";

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>parameters</c>: a vhost-scoped runtime parameter of some component.</summary>
public sealed record DefinitionParameter
{
    [JsonPropertyName("vhost")]
    public required string VirtualHost { get; init; }

    /// <summary>"vhost-limits", "operator_policy", "shovel", "federation-upstream", …</summary>
    [JsonPropertyName("component")]
    public required string Component { get; init; }

    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("value")]
    public JsonNode? Value { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>global_parameters</c>.</summary>
public sealed record DefinitionGlobalParameter
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("value")]
    public JsonNode? Value { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>policies</c>.</summary>
public sealed record DefinitionPolicy
{
    [JsonPropertyName("vhost")]
    public required string VirtualHost { get; init; }

    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("pattern")]
    public required string Pattern { get; init; }

    /// <summary>"queues", "exchanges" or "all" (3.12+ also "classic_queues", "quorum_queues", "streams").</summary>
    [JsonPropertyName("apply-to")]
    public string ApplyTo { get; init; } = "all";

    [JsonPropertyName("priority")]
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)]
    public int Priority { get; init; }

    [JsonPropertyName("definition")]
    public JsonObject Definition { get; init; } = [];

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>queues</c>. RabbitMQ exports every non-exclusive queue, transient ones included.</summary>
public sealed record DefinitionQueue
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("vhost")]
    public required string VirtualHost { get; init; }

    [JsonPropertyName("durable")]
    public bool Durable { get; init; } = true;

    [JsonPropertyName("auto_delete")]
    public bool AutoDelete { get; init; }

    [JsonPropertyName("arguments")]
    public JsonObject Arguments { get; init; } = [];

    /// <summary>"classic", "quorum" or "stream" (3.10+ exports; the same as the x-queue-type argument when set).</summary>
    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>exchanges</c>. RabbitMQ's export leaves out "", amq.* and internal exchanges.</summary>
public sealed record DefinitionExchange
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    [JsonPropertyName("vhost")]
    public required string VirtualHost { get; init; }

    [JsonPropertyName("type")]
    public required string Type { get; init; }

    [JsonPropertyName("durable")]
    public bool Durable { get; init; } = true;

    [JsonPropertyName("auto_delete")]
    public bool AutoDelete { get; init; }

    /// <summary>Absent from 3.10's own exports (which skip internal exchanges); read and written when known.</summary>
    [JsonPropertyName("internal")]
    public bool Internal { get; init; }

    [JsonPropertyName("arguments")]
    public JsonObject Arguments { get; init; } = [];

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>An entry of <c>bindings</c>.</summary>
public sealed record DefinitionBinding
{
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("vhost")]
    public required string VirtualHost { get; init; }

    [JsonPropertyName("destination")]
    public required string Destination { get; init; }

    /// <summary>"queue" or "exchange".</summary>
    [JsonPropertyName("destination_type")]
    public required string DestinationType { get; init; }

    [JsonPropertyName("routing_key")]
    public string RoutingKey { get; init; } = "";

    [JsonPropertyName("arguments")]
    public JsonObject Arguments { get; init; } = [];

    [JsonExtensionData]
    public IDictionary<string, JsonElement>? ExtensionData { get; set; }
}
