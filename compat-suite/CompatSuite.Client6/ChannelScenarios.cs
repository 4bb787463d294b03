using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Client6;

/// <summary>Channel open/close as RabbitMQ.Client 6.x sees it.</summary>
public sealed class ChannelScenarios
{
    [Fact]
    public void Open_and_close_100_channels_on_one_connection()
    {
        using var connection = Broker.Connect();
        var channels = Enumerable.Range(0, 100).Select(_ => connection.CreateModel()).ToList();
        Assert.Equal(100, channels.Select(c => c.ChannelNumber).Distinct().Count());
        foreach (var channel in channels)
        {
            channel.Close();
            Assert.True(channel.IsClosed);
            channel.Dispose();
        }

        Assert.True(connection.IsOpen);
    }

    [Fact]
    public void Open_and_close_channels_on_many_connections()
    {
        var connections = Enumerable.Range(0, 10).Select(i => Broker.Connect($"compat6-channels-{i}")).ToList();
        try
        {
            Parallel.ForEach(connections, connection =>
            {
                for (var round = 0; round < 10; round++)
                {
                    using var channel = connection.CreateModel();
                    channel.Close();
                }
            });
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
    public void Channel_numbers_are_reused_after_close()
    {
        using var connection = Broker.Connect();
        var first = connection.CreateModel();
        var number = first.ChannelNumber;
        first.Close();
        first.Dispose();

        using var second = connection.CreateModel();
        Assert.Equal(number, second.ChannelNumber);
        Assert.True(second.IsOpen);
        second.Close();
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public void Closing_a_channel_twice_is_harmless()
    {
        using var connection = Broker.Connect();
        using var channel = connection.CreateModel();
        channel.Close();
        channel.Close();
        Assert.True(channel.IsClosed);
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public void Requested_channel_max_10_is_negotiated_and_enforced()
    {
        var factory = Broker.Factory();
        factory.RequestedChannelMax = 10;
        using var connection = factory.CreateConnection();
        Assert.Equal(10, connection.ChannelMax);
        var channels = Enumerable.Range(0, 10).Select(_ => connection.CreateModel()).ToList();
        Assert.Throws<ChannelAllocationException>(() => connection.CreateModel());
        Assert.True(connection.IsOpen);
        channels.ForEach(c => c.Close());
    }
}
