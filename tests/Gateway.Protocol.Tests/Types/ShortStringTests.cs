using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Spec;

namespace Gateway.Protocol.Tests.Types;

public sealed class ShortStringTests
{
    [Fact]
    public void Invalid_utf8_in_a_shortstr_is_a_501_not_a_silently_rewritten_string()
    {
        // basic.publish: ticket 0, exchange "", routing key 0xFF (not UTF-8), no flags.
        byte[] arguments = [0, 0, 0, 1, 0xFF, 0];

        var ex = Assert.Throws<AmqpProtocolException>(() => BasicPublish.Read(arguments));

        Assert.Equal(ReplyCode.FrameError, ex.ReplyCode);
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Multibyte_utf8_shortstr_round_trips()
    {
        var routingKey = "commandes.été.✓";
        var publish = new BasicPublish("ex", routingKey, true, false);
        var bytes = new byte[publish.GetRequiredBufferSize()];
        publish.WriteTo(bytes);

        Assert.Equal(routingKey, BasicPublish.Read(bytes).RoutingKey);
    }
}
