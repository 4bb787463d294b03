using System.Text;
using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Connection;

/// <summary>Connection life cycle and handshake as RabbitMQ.Client 7.x sees it.</summary>
public sealed class ConnectionScenarios
{
    private static readonly string[] Capabilities =
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

    [Fact]
    public async Task Connect_and_close()
    {
        await using var connection = await Broker.ConnectAsync();
        Assert.True(connection.IsOpen);
        await connection.CloseAsync();
        Assert.False(connection.IsOpen);
        Assert.Equal((ushort)200, connection.CloseReason?.ReplyCode);
    }

    [Fact]
    public async Task Many_connections_at_once()
    {
        var connections = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Broker.ConnectAsync($"compat-many-{i}")));
        try
        {
            Assert.All(connections, c => Assert.True(c.IsOpen));
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.CloseAsync();
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Default_heartbeat_is_60_seconds()
    {
        await using var connection = await Broker.ConnectAsync();
        Assert.Equal(TimeSpan.FromSeconds(60), connection.Heartbeat);
    }

    [Fact]
    public async Task Requested_heartbeat_of_10_seconds_is_granted()
    {
        var factory = Broker.Factory();
        factory.RequestedHeartbeat = TimeSpan.FromSeconds(10);
        await using var connection = await factory.CreateConnectionAsync();
        Assert.Equal(TimeSpan.FromSeconds(10), connection.Heartbeat);
    }

    [Fact]
    public async Task Negotiated_limits_are_RabbitMQ_defaults()
    {
        await using var connection = await Broker.ConnectAsync();
        Assert.Equal(2047, connection.ChannelMax);
        Assert.Equal(131072u, connection.FrameMax);
    }

    [Fact]
    public async Task Bad_password_is_an_authentication_failure()
    {
        var factory = Broker.Factory();
        factory.Password = "definitely-not-the-password";
        var error = await Assert.ThrowsAsync<BrokerUnreachableException>(() => factory.CreateConnectionAsync());
        Assert.IsType<AuthenticationFailureException>(error.InnerException);
        Assert.Contains("ACCESS_REFUSED", error.InnerException.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// RabbitMQ answers connection.open with connection.close 530 (class 10, method 40). RabbitMQ.Client 7.1.2
    /// sometimes surfaces that as an exception and sometimes returns a connection that closes a moment later
    /// (a race in the client), so both shapes are accepted; the reply code must be 530 either way.
    /// </summary>
    [Fact]
    public async Task Unknown_vhost_is_refused_with_530()
    {
        var factory = Broker.Factory();
        factory.VirtualHost = "compat-no-such-vhost";
        ShutdownEventArgs? reason;
        try
        {
            await using var connection = await factory.CreateConnectionAsync();
            reason = await WaitForCloseAsync(connection);
        }
        catch (BrokerUnreachableException error)
        {
            reason = Assert.IsType<OperationInterruptedException>(error.InnerException).ShutdownReason;
        }

        Assert.NotNull(reason);
        Assert.Equal(530, reason.ReplyCode);
        Assert.StartsWith("NOT_ALLOWED - ", reason.ReplyText, StringComparison.Ordinal);
        Assert.Equal(10, reason.ClassId);
        Assert.Equal(40, reason.MethodId);
    }

    [Fact]
    public async Task Server_properties_advertise_product_version_and_capabilities()
    {
        await using var connection = await Broker.ConnectAsync();
        var properties = connection.ServerProperties;
        Assert.NotNull(properties);
        Assert.NotEmpty(AsString(properties["product"]));
        Assert.NotEmpty(AsString(properties["version"]));
        var capabilities = Assert.IsAssignableFrom<IDictionary<string, object?>>(properties["capabilities"]);
        Assert.All(Capabilities, name => Assert.Equal(true, capabilities.TryGetValue(name, out var value) ? value : null));
    }

    [Fact]
    public async Task Client_provided_connection_name_is_accepted()
    {
        await using var connection = await Broker.ConnectAsync("compat-named-connection");
        Assert.Equal("compat-named-connection", connection.ClientProvidedName);
        Assert.Equal("compat-named-connection", AsString(connection.ClientProperties["connection_name"]));
        await using var channel = await connection.CreateChannelAsync();
        Assert.True(channel.IsOpen);
    }

    private static async Task<ShutdownEventArgs?> WaitForCloseAsync(IConnection connection)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (connection.IsOpen && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.False(connection.IsOpen, "connection to an unknown vhost stayed open");
        return connection.CloseReason;
    }

    private static string AsString(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        _ => throw new InvalidOperationException($"not a string: {value?.GetType().Name ?? "null"}"),
    };
}
