using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MetaService.Contracts.Http;

// The request and response bodies of the metadata service's HTTP API that are not contract records
// themselves. Property names go over the wire in snake_case (RabbitMQ's management API style), see
// MetaServiceJsonContext. The resource identity (vhost, name) is in the URL path, not in these bodies.

/// <summary>Body of <c>PUT /api/vhosts/{name}</c>.</summary>
public sealed record VirtualHostBody(string? Description = null, IReadOnlyList<string>? Tags = null);

/// <summary>
/// Body of <c>PUT /api/users/{name}</c>: either <see cref="Password"/> (hashed by the service with
/// <see cref="RabbitPasswordHashing.Hash(string, string)"/>, never stored or logged), or
/// <see cref="PasswordHash"/> with <see cref="HashingAlgorithm"/> (RabbitMQ's definitions format;
/// the algorithm defaults to SHA-256). <see cref="Tags"/> accepts a JSON array or RabbitMQ's
/// comma-separated string.
/// </summary>
public sealed record UserBody(
    string? Password = null,
    string? PasswordHash = null,
    string? HashingAlgorithm = null,
    [property: JsonConverter(typeof(TagsJsonConverter))] IReadOnlyList<string>? Tags = null);

/// <summary>A user as the users API shows it: never a password, never a hash.</summary>
public sealed record UserView(string Name, IReadOnlyList<string> Tags, string HashingAlgorithm);

/// <summary>Body of <c>PUT /api/permissions/{vhost}/{user}</c>.</summary>
public sealed record PermissionBody(string Configure = "", string Write = "", string Read = "");

/// <summary>Body of <c>PUT /api/exchanges/{vhost}/{name}</c> (exchange.declare).</summary>
public sealed record ExchangeBody(
    string Type = "direct",
    bool Durable = false,
    bool AutoDelete = false,
    bool Internal = false,
    JsonObject? Arguments = null);

/// <summary>Body of <c>PUT /api/queues/{vhost}/{name}</c> (queue.declare).</summary>
public sealed record QueueBody(
    bool Durable = false,
    bool AutoDelete = false,
    JsonObject? Arguments = null,
    string? ExclusiveOwner = null);

/// <summary>Body of <c>PUT /api/policies/{vhost}/{name}</c>.</summary>
public sealed record PolicyBody(
    string Pattern,
    string ApplyTo = "all",
    int Priority = 0,
    JsonObject? Definition = null);

/// <summary>
/// An RFC 9457 problem response. A refusal by the store carries <see cref="ReplyCode"/> (the AMQP
/// reply code of the <see cref="MetadataException"/>) and its explanation verbatim in
/// <see cref="Detail"/>, so a client can rethrow the same exception.
/// </summary>
public sealed record ApiProblem(
    string Type,
    string Title,
    int Status,
    string? Detail = null,
    [property: JsonPropertyName("replyCode")] int? ReplyCode = null);
