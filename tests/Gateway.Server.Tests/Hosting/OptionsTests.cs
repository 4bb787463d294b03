using Gateway.Host;
using Microsoft.Extensions.Configuration;

namespace Gateway.Server.Tests.Hosting;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_are_RabbitMQ_defaults()
    {
        var options = GatewayApplication.ReadOptions(new ConfigurationBuilder().Build());

        Assert.Equal(5672, options.Port);
        Assert.Equal(5671, options.TlsPort);
        Assert.Equal(15692, options.MetricsPort);   // rabbitmq_prometheus's port
        Assert.Equal((ushort)2047, options.ChannelMax);
        Assert.Equal(131072u, options.FrameMax);
        Assert.Equal((ushort)60, options.HeartbeatSeconds);
        Assert.Equal("embedded", options.Metadata);
        Assert.Equal(["guest"], options.LoopbackUsers);
        Assert.Equal(TimeSpan.FromSeconds(10), options.HandshakeTimeout);
    }

    [Fact]
    public void Command_line_switches_set_ports_data_dir_and_metadata()
    {
        string[] args = ["--port", "5673", "--tls-port", "5674", "--metrics-port", "-1", "--data-dir", "/tmp/gw-b", "--metadata", "http://meta:8080", "--heartbeat", "30"];
        var configuration = new ConfigurationBuilder()
            .AddCommandLine(args, GatewayApplication.SwitchMappings.ToDictionary(kv => kv.Key, kv => kv.Value))
            .Build();

        var options = GatewayApplication.ReadOptions(configuration);

        Assert.Equal(5673, options.Port);
        Assert.Equal(5674, options.TlsPort);
        Assert.Equal(-1, options.MetricsPort);
        Assert.Equal("/tmp/gw-b", options.DataDir);
        Assert.Equal("http://meta:8080", options.Metadata);
        Assert.Equal((ushort)30, options.HeartbeatSeconds);
    }

    [Fact]
    public void Environment_variables_with_the_GATEWAY_prefix_are_read()
    {
        Environment.SetEnvironmentVariable("GATEWAY_PORT", "6001");
        Environment.SetEnvironmentVariable("GATEWAY_DATADIR", "/tmp/gw-env");
        try
        {
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables("GATEWAY_").Build();

            var options = GatewayApplication.ReadOptions(configuration);

            Assert.Equal(6001, options.Port);
            Assert.Equal("/tmp/gw-env", options.DataDir);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GATEWAY_PORT", null);
            Environment.SetEnvironmentVariable("GATEWAY_DATADIR", null);
        }
    }
}
