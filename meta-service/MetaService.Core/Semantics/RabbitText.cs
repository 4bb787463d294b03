namespace MetaService.Core.Semantics;

/// <summary>
/// RabbitMQ's explanations (the part after "CODE_NAME - "; the gateway adds the prefix), worded as
/// rabbit_channel, rabbit_misc, rabbit_amqqueue, rabbit_exchange and the queue-type modules word them.
/// </summary>
internal static class RabbitText
{
    /// <summary>rabbit_misc:rs/1: "queue 'q' in vhost '/'".</summary>
    public static string Resource(string kind, string name, string virtualHost) => $"{kind} '{name}' in vhost '{virtualHost}'";

    public static string Queue(string name, string virtualHost) => Resource("queue", name, virtualHost);

    public static string Exchange(string name, string virtualHost) => Resource("exchange", name, virtualHost);

    public static string NotFound(string resource) => $"no {resource}";

    public const string DefaultExchange = "operation not permitted on the default exchange";

    public static string ReservedPrefix(string kind, string name) => $"{kind} name '{name}' contains reserved prefix 'amq.*'";

    public static string SystemExchangeDeletion(string name, string virtualHost) =>
        $"deletion of system {Exchange(name, virtualHost)} not allowed";

    public static string UnknownExchangeType(string type) => $"unknown exchange type '{type}'";

    /// <summary>rabbit_exchange_type_delayed_message:validate/1 (406): x-delayed-type missing or not a string.</summary>
    public const string DelayedTypeMissing = "Invalid argument, 'x-delayed-type' must be an existing exchange type";

    /// <summary>rabbit_exchange_type_delayed_message:validate/1 (406): a delayed exchange cannot proxy itself.</summary>
    public const string DelayedTypeRecursive = "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'";

        public static string InUse(string resource) => $"{resource} in use";

    public static string ExclusiveLocked(string name, string virtualHost) =>
        $"cannot obtain exclusive access to locked {Queue(name, virtualHost)}. It could be originally declared on another "
        + "connection or the exclusive property value does not match that of the original declaration.";

    /// <summary>rabbit_misc:equivalence_fail/4.</summary>
    public static string Inequivalent(string key, string resource, string received, string current) =>
        $"inequivalent arg '{key}' for {resource}: received {received} but current is {current}";

    /// <summary>rabbit_misc:val/1 for a bare value: quoted.</summary>
    public static string Quoted(string value) => $"'{value}'";

    /// <summary>rabbit_misc:val/1 for a typed table value.</summary>
    public static string TypedValue(string value, string type) => $"the value '{value}' of type '{type}'";

    public const string None = "none";

    /// <summary>rabbit_amqqueue:check_arguments: "invalid arg 'x-…' for queue 'q' in vhost '/': {error term}".</summary>
    public static string InvalidArg(string key, string resource, string error) => $"invalid arg '{key}' for {resource}: {error}";

    /// <summary>The quorum / stream queue modules' refusal of an argument their type does not support, naming the module as RabbitMQ 3.10 does.</summary>
    public static string InvalidArgForType(string key, string resource, string typeModule) => $"invalid arg '{key}' for {resource} of queue type {typeModule}";

    /// <summary>The quorum / stream queue modules' refusal of a property: auto-delete, exclusive-owner, non-durable.</summary>
    public static string InvalidProperty(string property, string resource) => $"invalid property '{property}' for {resource}";

    /// <summary>rabbit_channel's check of an exchange-name argument (alternate-exchange, x-dead-letter-exchange).</summary>
    public static string InvalidArgType(string type, string key, string resource) => $"invalid type '{type}' for arg '{key}' in {resource}";
}
