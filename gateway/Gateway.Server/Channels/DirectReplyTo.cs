using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gateway.Server.Channels;

/// <summary>
/// RabbitMQ's direct reply-to (rabbitmq.com/direct-reply-to): a requester consumes, no-ack, from the
/// pseudo-queue <c>amq.rabbitmq.reply-to</c> and publishes requests with that name as reply_to; the
/// broker rewrites it into an address naming the requester's channel, and a reply published to that
/// address through the default exchange goes straight to the channel, never stored. The gateway's
/// addresses carry a random token (RabbitMQ's encode its node and channel process); this registry maps
/// them back, across all connections of the gateway.
/// </summary>
internal sealed class DirectReplyTo
{
    public const string PseudoQueue = "amq.rabbitmq.reply-to";
    public const string AddressPrefix = PseudoQueue + ".";

    private readonly ConcurrentDictionary<string, AmqpChannel> _channelsByAddress = new(StringComparer.Ordinal);

    /// <summary>A new reply address for <paramref name="channel"/>'s reply consumer.</summary>
    public string Register(AmqpChannel channel)
    {
        string address = AddressPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        _channelsByAddress[address] = channel;
        return address;
    }

    public void Unregister(string address) => _channelsByAddress.TryRemove(address, out _);

    /// <summary>The channel a reply address belongs to, or null (its requester is gone: RabbitMQ drops such replies).</summary>
    public AmqpChannel? Find(string routingKey) =>
        routingKey.StartsWith(AddressPrefix, StringComparison.Ordinal) && _channelsByAddress.TryGetValue(routingKey, out AmqpChannel? channel) ? channel : null;
}
