using System.Text;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Client6;

/// <summary>Connection life cycle and handshake as RabbitMQ.Client 6.x sees it.</summary>
public sealed class ConnectionScenarios
{
    [Fact]
    public void Connect_and_close()
    {
        using var connection = Broker.Connect();
        Assert.True(connection.IsOpen);
        connection.Close();
        Assert.False(connection.IsOpen);
        Assert.Equal((ushort)200, connection.CloseReason?.ReplyCode);
    }

    [Fact]
    public void Many_connections_at_once()
    {
        var connections = Enumerable.Range(0, 20).Select(i => Broker.Connect($"compat6-many-{i}")).ToList();
        try
        {
            Assert.All(connections, c => Assert.True(c.IsOpen));
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection.Close();
                connection.Dispose();
            }
        }
    }

    [Fact]
    public void Default_heartbeat_is_60_seconds()
    {
        using var connection = Broker.Connect();
        Assert.Equal(TimeSpan.FromSeconds(60), connection.Heartbeat);
    }

    [Fact]
    public void Requested_heartbeat_of_10_seconds_is_granted()
    {
        var factory = Broker.Factory();
        factory.RequestedHeartbeat = TimeSpan.FromSeconds(10);
        using var connection = factory.CreateConnection();
        Assert.Equal(TimeSpan.FromSeconds(10), connection.Heartbeat);
    }

    [Fact]
    public void Bad_password_is_an_authentication_failure()
    {
        var factory = Broker.Factory();
        factory.Password = "definitely-not-the-password";
        var error = Assert.Throws<BrokerUnreachableException>(() => factory.CreateConnection());
        Assert.IsType<AuthenticationFailureException>(error.InnerException);
    }

    [Fact]
    public void Unknown_vhost_is_refused_with_530()
    {
        var factory = Broker.Factory();
        factory.VirtualHost = "compat-no-such-vhost";
        var error = Assert.Throws<BrokerUnreachableException>(() => factory.CreateConnection());
        var interrupted = Assert.IsType<OperationInterruptedException>(error.InnerException);
        Assert.Equal(530, interrupted.ShutdownReason.ReplyCode);
        Assert.StartsWith("NOT_ALLOWED - ", interrupted.ShutdownReason.ReplyText, StringComparison.Ordinal);
        Assert.Equal(10, interrupted.ShutdownReason.ClassId);
        Assert.Equal(40, interrupted.ShutdownReason.MethodId);
    }

    [Fact]
    public void Server_properties_advertise_capabilities()
    {
        using var connection = Broker.Connect();
        Assert.NotEmpty(Encoding.UTF8.GetString((byte[])connection.ServerProperties["product"]));
        var capabilities = Assert.IsAssignableFrom<IDictionary<string, object>>(connection.ServerProperties["capabilities"]);
        Assert.Equal(true, capabilities["publisher_confirms"]);
        Assert.Equal(true, capabilities["basic.nack"]);
        Assert.Equal(true, capabilities["consumer_cancel_notify"]);
    }
}
