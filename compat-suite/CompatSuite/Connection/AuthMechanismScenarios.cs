using System.Buffers.Binary;
using System.Text;
using CompatSuite.Fixtures;

namespace CompatSuite.Connection;

/// <summary>
/// SASL mechanisms other than the PLAIN every RabbitMQ.Client uses: older clients (py-amqp, some PHP and Ruby
/// clients) log in with RabbitMQ's AMQPLAIN, a field table instead of a NUL-separated string.
/// </summary>
public sealed class AuthMechanismScenarios
{
    [Fact]
    public async Task AMQPLAIN_is_offered_and_logs_in()
    {
        await using var client = await RawAmqpClient.ConnectAsync();
        await client.WriteAsync(RawAmqpClient.ProtocolHeader);
        RawFrame start = await client.ExpectMethodAsync(10, 10);
        Assert.Contains("AMQPLAIN", Mechanisms(start).Split(' '));

        string[] userInfo = Broker.Url.UserInfo.Split(':', 2);
        string user = userInfo[0] is { Length: > 0 } u ? Uri.UnescapeDataString(u) : "guest";
        string password = userInfo.ElementAtOrDefault(1) is { Length: > 0 } p ? Uri.UnescapeDataString(p) : "guest";
        // The response is a field table's contents without its length prefix: LOGIN and PASSWORD as longstr ('S').
        byte[] response = [.. new MethodArgs()
            .ShortStr("LOGIN").Octet((byte)'S').LongStr(Encoding.UTF8.GetBytes(user))
            .ShortStr("PASSWORD").Octet((byte)'S').LongStr(Encoding.UTF8.GetBytes(password))
            .Bytes];
        await client.SendMethodAsync(0, 10, 11, new MethodArgs().EmptyTable().ShortStr("AMQPLAIN").LongStr(response).ShortStr("en_US"));
        await client.TuneAndOpenAsync();
        await client.ExpectMethodAsync(10, 41);
        await client.OpenChannelAsync(1);
        await client.ExpectMethodAsync(20, 11);
    }

    /// <summary>connection.start: class, method, version-major, version-minor, server-properties, mechanisms, locales.</summary>
    private static string Mechanisms(RawFrame start)
    {
        ReadOnlySpan<byte> args = start.Payload.AsSpan(4 + 2);
        int tableLength = checked((int)BinaryPrimitives.ReadUInt32BigEndian(args));
        args = args[(4 + tableLength)..];
        int mechanismsLength = checked((int)BinaryPrimitives.ReadUInt32BigEndian(args));
        return Encoding.UTF8.GetString(args.Slice(4, mechanismsLength));
    }
}
