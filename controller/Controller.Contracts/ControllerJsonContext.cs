using System.Text.Json;
using System.Text.Json.Serialization;

namespace Controller.Contracts;

/// <summary>
/// Source-generated JSON for every contract type (camelCase, as ASP.NET Core's web defaults): the gateway is
/// trimmed/AOT-analysed, so reflection-based serialization is not an option on its side. The controller
/// service puts this context first in its HTTP JSON options so both ends read and write the same shape.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(GatewayReport))]
[JsonSerializable(typeof(HeartbeatReply))]
[JsonSerializable(typeof(ControlState))]
[JsonSerializable(typeof(ControllerStatus))]
[JsonSerializable(typeof(NodeView[]))]
[JsonSerializable(typeof(QueueView[]))]
[JsonSerializable(typeof(ConsumerView[]))]
[JsonSerializable(typeof(PauseRule))]
[JsonSerializable(typeof(PauseRule[]))]
[JsonSerializable(typeof(PauseRequest))]
[JsonSerializable(typeof(RemovedReply))]
[JsonSerializable(typeof(ConsumeLimit))]
[JsonSerializable(typeof(ConsumeLimit[]))]
[JsonSerializable(typeof(PublishLimit))]
[JsonSerializable(typeof(PublishLimit[]))]
[JsonSerializable(typeof(StandbyProblem))]
[JsonSerializable(typeof(ControllerProblem))]
public sealed partial class ControllerJsonContext : JsonSerializerContext;

/// <summary>The fields of an RFC 9457 problem document that callers show (ASP.NET Core's ProblemDetails writes them).</summary>
public sealed record ControllerProblem(string? Title, string? Detail, int? Status);
