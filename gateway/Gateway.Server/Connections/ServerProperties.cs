using System.Reflection;
using Gateway.Protocol.Types;

namespace Gateway.Server.Connections;

/// <summary>
/// connection.start server-properties, shaped like RabbitMQ's (rabbit_reader:server_properties/1)
/// so clients that branch on capabilities behave as they do against RabbitMQ; pika, for one,
/// refuses confirm_delivery() unless publisher_confirms and basic.nack are advertised.
/// </summary>
internal static class ServerProperties
{
    /// <summary>The capabilities RabbitMQ 3.x advertises, all true.</summary>
    public static readonly string[] Capabilities =
    [
        "publisher_confirms",
        "exchange_exchange_bindings",
        "basic.nack",
        "consumer_cancel_notify",
        "connection.blocked",
        "consumer_priorities",
        "authentication_failure_close",
        "per_consumer_qos",
        "direct_reply_to",
    ];

    /// <summary>
    /// We name ourselves rather than impersonate RabbitMQ: none of RabbitMQ.Client, amqplib, pika or
    /// MassTransit reads product or version, and operators must be able to tell which broker
    /// answered. "information" says which RabbitMQ behaviour we follow (compat-suite/COMPATIBILITY.md).
    /// </summary>
    public const string Product = "AMQP Log Gateway";

    public static FieldTable Create(string clusterName)
    {
        var capabilities = new FieldTable();
        foreach (var capability in Capabilities)
        {
            capabilities.Add(capability, true);
        }

        var gatewayVersion = typeof(ServerProperties).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        return new FieldTable
        {
            { "capabilities", capabilities },
            { "cluster_name", clusterName },
            { "copyright", "Copyright (c) the AMQP log gateway authors" },
            { "information", "AMQP 0-9-1 gateway onto log storage; speaks RabbitMQ 3.10's dialect" },
            { "platform", $".NET {Environment.Version}" },
            { "product", Product },
            { "version", gatewayVersion },
        };
    }
}
