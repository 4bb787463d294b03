using System.Reflection;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;

namespace Gateway.Protocol.Tests.Methods;

public class MethodFrameTests
{
    [Theory]
    [MemberData(nameof(MethodCases.Names), MemberType = typeof(MethodCases))]
    public void WriteMethod_produces_the_hand_written_frame(string method)
    {
        var c = MethodCases.Get(method);

        WireAssert.BytesEqual(c.ExpectedFrame, c.Encode());
    }

    [Theory]
    [MemberData(nameof(MethodCases.Names), MemberType = typeof(MethodCases))]
    public void Read_of_the_hand_written_frame_yields_the_sample(string method)
    {
        var c = MethodCases.Get(method);

        c.AssertDecodes(c.ExpectedFrame);
    }

    [Theory]
    [MemberData(nameof(MethodCases.Names), MemberType = typeof(MethodCases))]
    public void Expected_frame_size_field_matches_its_own_length(string method)
    {
        // Guards the hand-written hex itself: a miscounted size would make the two tests above meaningless.
        var c = MethodCases.Get(method);
        var declared = (c.ExpectedFrame[3] << 24) | (c.ExpectedFrame[4] << 16) | (c.ExpectedFrame[5] << 8) | c.ExpectedFrame[6];

        Assert.Equal(c.ExpectedFrame.Length - 8, declared);
        var declaredId = (uint)((c.ExpectedFrame[7] << 24) | (c.ExpectedFrame[8] << 16) | (c.ExpectedFrame[9] << 8) | c.ExpectedFrame[10]);
        Assert.Equal((uint)c.Id, declaredId);
    }

    [Theory]
    [MemberData(nameof(MethodCases.NamesWithArguments), MemberType = typeof(MethodCases))]
    public void Read_of_truncated_arguments_is_a_frame_error(string method)
    {
        var c = MethodCases.Get(method);
        var read = typeof(MethodFrameTests).GetMethod(nameof(ReadVia), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(c.StructType);
        var truncated = c.Arguments[..^1];

        var thrown = Assert.Throws<TargetInvocationException>(() => read.Invoke(null, [truncated]));

        var protocolError = Assert.IsType<AmqpProtocolException>(thrown.InnerException);
        Assert.Equal(ReplyCode.FrameError, protocolError.ReplyCode);
    }

    [Fact]
    public void Every_method_id_has_a_golden_case()
    {
        var covered = MethodCases.All.Select(c => c.Id).ToHashSet();
        var missing = Enum.GetValues<AmqpMethodId>().Where(id => !covered.Contains(id)).Select(id => id.Name()).ToList();

        Assert.Empty(missing);
        Assert.Equal(MethodCases.All.Count, covered.Count);
    }

    [Fact]
    public void Every_method_id_has_exactly_one_struct()
    {
        var byId = MethodStructs.All.GroupBy(s => s.Id).ToDictionary(g => g.Key, g => g.Select(s => s.Type.Name).ToList());

        var missing = Enum.GetValues<AmqpMethodId>().Where(id => !byId.ContainsKey(id)).Select(id => id.Name()).ToList();
        var duplicated = byId.Where(kv => kv.Value.Count > 1).Select(kv => string.Join("/", kv.Value)).ToList();
        var unknown = byId.Keys.Where(id => !id.IsKnown()).ToList();

        Assert.Empty(missing);
        Assert.Empty(duplicated);
        Assert.Empty(unknown);
    }

    [Fact]
    public void Struct_names_follow_the_method_names()
    {
        // queue.declare-ok ↔ QueueDeclareOk: keeps the code greppable by the names RabbitMQ logs.
        foreach (var (type, id) in MethodStructs.All)
        {
            var expected = string.Concat(id.Name().Split('.', '_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
            Assert.Equal(expected, type.Name);
        }
    }

    [Fact]
    public void Reserved_fields_sent_by_a_client_with_non_zero_values_are_ignored()
    {
        // ticket 0x0101 in queue.declare, capabilities "x" and insist=1 in connection.open, a cluster-id in get-empty
        var declare = QueueDeclare.Read(Hex.Parse("0101 | 01 71 | 01 | 00000000"));
        var open = ConnectionOpen.Read(Hex.Parse("01 2f | 01 78 | 01"));
        _ = BasicGetEmpty.Read(Hex.Parse("03 616263"));

        Assert.Equal("q", declare.Queue);
        Assert.True(declare.Passive);
        Assert.False(declare.Durable);
        Assert.Equal("/", open.VirtualHost);
    }

    [Fact]
    public void Bits_after_a_non_bit_field_start_a_new_octet()
    {
        // basic.deliver: the redelivered bit sits between a longlong and a shortstr, alone in its octet;
        // basic.get-ok with redelivered=1 must read 01 even when the next octet (exchange length) is 0.
        var getOk = BasicGetOk.Read(Hex.Parse("0000000000000009 | 01 | 00 | 00 | 00000000"));

        Assert.Equal(9ul, getOk.DeliveryTag);
        Assert.True(getOk.Redelivered);
        Assert.Equal("", getOk.Exchange);
        Assert.Equal("", getOk.RoutingKey);
    }

    [Fact]
    public void Method_ids_with_content_are_exactly_the_four_content_methods()
    {
        var withContent = Enum.GetValues<AmqpMethodId>().Where(id => id.HasContent()).ToHashSet();

        HashSet<AmqpMethodId> expected =
            [AmqpMethodId.BasicPublish, AmqpMethodId.BasicReturn, AmqpMethodId.BasicDeliver, AmqpMethodId.BasicGetOk];
        Assert.Equal(expected, withContent);
    }

    private static object ReadVia<T>(byte[] arguments)
        where T : struct, IAmqpMethod<T> => T.Read(arguments);
}
