using CompatSuite.Fixtures;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CompatSuite.Channel;

/// <summary>Channel open/close and channel_max as RabbitMQ.Client 7.x sees them.</summary>
public sealed class ChannelScenarios
{
    [Fact]
    public async Task Open_and_close_100_channels_on_one_connection()
    {
        await using var connection = await Broker.ConnectAsync();
        var channels = new List<IChannel>();
        for (var i = 0; i < 100; i++)
        {
            channels.Add(await connection.CreateChannelAsync());
        }

        Assert.Equal(100, channels.Select(c => c.ChannelNumber).Distinct().Count());
        foreach (var channel in channels)
        {
            await channel.CloseAsync();
            Assert.True(channel.IsClosed);
            await channel.DisposeAsync();
        }

        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task Open_and_close_channels_on_many_connections_concurrently()
    {
        await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            await using var connection = await Broker.ConnectAsync($"compat-channels-{i}");
            for (var round = 0; round < 10; round++)
            {
                await using var channel = await connection.CreateChannelAsync();
                await channel.CloseAsync();
            }

            Assert.True(connection.IsOpen);
            await connection.CloseAsync();
        }));
    }

    [Fact]
    public async Task Channel_numbers_are_reused_after_close()
    {
        await using var connection = await Broker.ConnectAsync();
        var first = await connection.CreateChannelAsync();
        var number = first.ChannelNumber;
        await first.CloseAsync();
        await first.DisposeAsync();

        // The client hands the freed number out again; the broker must accept channel.open for it.
        await using var second = await connection.CreateChannelAsync();
        Assert.Equal(number, second.ChannelNumber);
        Assert.True(second.IsOpen);
        await second.CloseAsync();
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task Closing_a_channel_twice_is_harmless()
    {
        await using var connection = await Broker.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.CloseAsync();
        await channel.CloseAsync();
        Assert.True(channel.IsClosed);
        Assert.True(connection.IsOpen);
        await using var another = await connection.CreateChannelAsync();
        Assert.True(another.IsOpen);
    }

    [Fact]
    public async Task Requested_channel_max_10_is_negotiated_and_enforced()
    {
        var factory = Broker.Factory();
        factory.RequestedChannelMax = 10;
        await using var connection = await factory.CreateConnectionAsync();
        Assert.Equal(10, connection.ChannelMax);

        var channels = new List<IChannel>();
        for (var i = 0; i < 10; i++)
        {
            channels.Add(await connection.CreateChannelAsync());
        }

        // The 11th is refused by the client itself, before anything reaches the broker
        // (the raw scenarios cover what the broker does with an 11th channel.open).
        await Assert.ThrowsAsync<ChannelAllocationException>(() => connection.CreateChannelAsync());
        Assert.True(connection.IsOpen);
        foreach (var channel in channels)
        {
            await channel.CloseAsync();
            await channel.DisposeAsync();
        }
    }
}
