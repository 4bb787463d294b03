using System.Reflection;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods;
using Gateway.Protocol.Spec;
using Gateway.Protocol.Tests.Support;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Spec;

/// <summary>
/// The codec's ids, names, reply codes and method layouts checked against Spec/amqp0-9-1.xml, so a typo in
/// either one fails the build rather than a client.
/// </summary>
public class AmqpSpecConsistencyTests
{
    private static readonly AmqpSpecDocument SpecDoc = AmqpSpecDocument.Instance;

    public static TheoryData<string> SpecMethodNames()
    {
        var data = new TheoryData<string>();
        foreach (var method in SpecDoc.Methods)
        {
            data.Add(method.FullName);
        }

        return data;
    }

    [Fact]
    public void Spec_is_version_0_9_1_and_matches_the_protocol_header()
    {
        Assert.Equal((0, 9, 1), (SpecDoc.Major, SpecDoc.Minor, SpecDoc.Revision));
        Assert.Equal(
            new byte[] { (byte)'A', (byte)'M', (byte)'Q', (byte)'P', 0, (byte)SpecDoc.Major, (byte)SpecDoc.Minor, (byte)SpecDoc.Revision },
            AmqpConstants.ProtocolHeader.ToArray());
    }

    [Fact]
    public void Every_method_id_is_in_the_spec_and_every_spec_method_has_an_id()
    {
        var fromSpec = SpecDoc.Methods.Select(m => AmqpMethodIds.Create(m.ClassIndex, m.Index)).ToHashSet();
        var fromEnum = Enum.GetValues<AmqpMethodId>().ToHashSet();

        Assert.Empty(fromEnum.Except(fromSpec).Select(id => id.Name()));
        Assert.Empty(SpecDoc.Methods.Where(m => !fromEnum.Contains(AmqpMethodIds.Create(m.ClassIndex, m.Index))).Select(m => m.FullName));
        Assert.Equal(fromSpec.Count, SpecDoc.Methods.Count());
    }

    [Theory]
    [MemberData(nameof(SpecMethodNames))]
    public void Method_name_and_content_flag_match_the_spec(string fullName)
    {
        var method = Find(fullName);
        var id = AmqpMethodIds.Create(method.ClassIndex, method.Index);

        // RabbitMQ spells names with underscores in its error texts ("queue.declare_ok").
        Assert.Equal(method.FullName.Replace('-', '_'), id.Name());
        Assert.Equal(method.ClassIndex, id.ClassId());
        Assert.Equal(method.Index, id.MethodId());
        Assert.Equal(method.HasContent, id.HasContent());
        Assert.Contains(method.Direction, new[] { "c2s", "s2c", "both" });
    }

    [Fact]
    public void Class_ids_match_the_spec()
    {
        var constants = typeof(AmqpClassId).GetFields(BindingFlags.Public | BindingFlags.Static)
            .ToDictionary(f => f.Name, f => (ushort)f.GetRawConstantValue()!);

        Assert.Equal(SpecDoc.Classes.Count, constants.Count);
        foreach (var cls in SpecDoc.Classes)
        {
            Assert.Equal(cls.Index, constants[Naming.Pascal(cls.Name)]);
        }
    }

    [Fact]
    public void Rabbitmq_extensions_are_present()
    {
        Assert.Equal(85, SpecDoc.Classes.Single(c => c.Name == "confirm").Index);
        Assert.Equal(51, Find("exchange.unbind-ok").Index);
        Assert.Equal(120, Find("basic.nack").Index);
        Assert.Equal(["delivery-tag", "multiple", "requeue"], Find("basic.nack").Fields.Select(f => f.Name));
        Assert.Equal(["reserved-1", "queue", "exchange", "routing-key", "arguments"], Find("queue.unbind").Fields.Select(f => f.Name));
        Assert.Equal("both", Find("basic.cancel").Direction);
        Assert.Equal("both", Find("basic.ack").Direction);
        Assert.Equal("s2c", Find("connection.blocked").Direction);
    }

    [Fact]
    public void Every_reply_code_matches_a_spec_constant_by_value_name_and_severity()
    {
        var replyConstants = SpecDoc.Constants.Where(c => c.Class is not null || c.Name == "reply-success").ToList();

        Assert.Equal(replyConstants.Count, Enum.GetValues<ReplyCode>().Length);
        foreach (var constant in replyConstants)
        {
            var code = (ReplyCode)constant.Value;
            Assert.True(Enum.IsDefined(code), $"{constant.Name} ({constant.Value}) has no ReplyCode");
            Assert.Equal(constant.Name.ToUpperInvariant().Replace('-', '_'), code.Name());
            Assert.Equal(constant.Class == "hard-error", code.IsHardError());
        }
    }

    [Fact]
    public void Frame_constants_match_the_spec()
    {
        int Constant(string name) => SpecDoc.Constants.Single(c => c.Name == name).Value;

        Assert.Equal((int)FrameType.Method, Constant("frame-method"));
        Assert.Equal((int)FrameType.Header, Constant("frame-header"));
        Assert.Equal((int)FrameType.Body, Constant("frame-body"));
        Assert.Equal((int)FrameType.Heartbeat, Constant("frame-heartbeat"));
        Assert.Equal(AmqpConstants.FrameEnd, Constant("frame-end"));
        Assert.Equal((int)AmqpConstants.FrameMinSize, Constant("frame-min-size"));
        Assert.Equal(4, Enum.GetValues<FrameType>().Length);
    }

    [Theory]
    [MemberData(nameof(SpecMethodNames))]
    public void Struct_exists_with_the_spec_id(string fullName)
    {
        var method = Find(fullName);
        var type = StructFor(method);

        Assert.Equal(AmqpMethodIds.Create(method.ClassIndex, method.Index), (AmqpMethodId)type.GetProperty("Id")!.GetValue(null)!);
    }

    [Theory]
    [MemberData(nameof(SpecMethodNames))]
    public void Constructor_parameters_are_the_non_reserved_fields_in_spec_order(string fullName)
    {
        var method = Find(fullName);
        var parameters = Constructor(StructFor(method))?.GetParameters() ?? [];
        var fields = method.Fields.Where(f => !f.IsReserved).ToList();

        Assert.Equal(fields.Select(f => Naming.Camel(f.Name)), parameters.Select(p => p.Name));
        for (var i = 0; i < fields.Count; i++)
        {
            Assert.Contains(parameters[i].ParameterType, ClrTypesFor(fields[i].Type));
        }
    }

    [Theory]
    [MemberData(nameof(SpecMethodNames))]
    public void Empty_instance_encodes_to_the_spec_minimum_as_all_zero_octets(string fullName)
    {
        // Every field at its empty value (0, false, "", {}) encodes as zero octets, so the spec's layout alone
        // says how long the arguments are: a missing, extra or mis-typed field changes the length.
        var method = Find(fullName);
        var type = StructFor(method);
        var instance = CreateInstance(type, method, markedField: -1);
        var expected = Layout(method, markedField: -1);

        var actual = Write(instance);

        Assert.Equal(expected.Length, instance.GetRequiredBufferSize());
        WireAssert.BytesEqual(expected, actual);
        var decoded = ReadVia(type, expected);
        WireAssert.BytesEqual(expected, Write(decoded));
        if (expected.Length > 0)
        {
            var error = Assert.Throws<TargetInvocationException>(() => ReadVia(type, expected[..^1]));
            Assert.Equal(ReplyCode.FrameError, Assert.IsType<AmqpProtocolException>(error.InnerException).ReplyCode);
        }
    }

    [Theory]
    [MemberData(nameof(SpecMethodNames))]
    public void Each_field_is_written_at_its_spec_position(string fullName)
    {
        // One field at a time gets a non-empty value; the bytes must change exactly where the spec puts it
        // (for a bit: its position in the shared octet), and decoding must give the same bytes back.
        var method = Find(fullName);
        var type = StructFor(method);
        for (var i = 0; i < method.Fields.Count; i++)
        {
            if (method.Fields[i].IsReserved)
            {
                continue;
            }

            var instance = CreateInstance(type, method, markedField: i);
            var expected = Layout(method, markedField: i);

            WireAssert.BytesEqual(expected, Write(instance));
            WireAssert.BytesEqual(expected, Write(ReadVia(type, expected)));
        }
    }

    [Fact]
    public void Basic_property_flag_bits_match_the_spec()
    {
        var properties = SpecDoc.Classes.Single(c => c.Name == "basic").Properties;

        Assert.Equal(14, properties.Count);
        Assert.Equal(Enumerable.Range(2, 14).Reverse(), properties.Select(p => p.Bit));
        foreach (var property in properties)
        {
            var clr = typeof(BasicProperties).GetProperty(Naming.Pascal(property.Name))!;
            var props = new BasicProperties();
            object value = property.Type switch
            {
                "shortstr" => "a",
                "table" => new FieldTable(),
                "octet" => (byte)1,
                "timestamp" => new AmqpTimestamp(1),
                _ => throw new InvalidOperationException(property.Type),
            };
            clr.SetValue(props, value);

            var bytes = props.ToBytes();

            Assert.Equal(1 << property.Bit, (bytes[0] << 8) | bytes[1]);
        }
    }

    private static SpecMethod Find(string fullName) => SpecDoc.Methods.Single(m => m.FullName == fullName);

    private static Type StructFor(SpecMethod method)
    {
        var type = MethodStructs.All.Select(s => s.Type).SingleOrDefault(t => t.Name == method.StructName);
        Assert.True(type is not null, $"no struct {method.StructName} for {method.FullName}");
        return type;
    }

    private static ConstructorInfo? Constructor(Type type) =>
        type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();

    private static Type[] ClrTypesFor(string wireType) => wireType switch
    {
        "bit" => [typeof(bool)],
        "octet" => [typeof(byte)],
        "short" => [typeof(ushort)],
        "long" => [typeof(uint)],
        "longlong" => [typeof(ulong)],
        "shortstr" => [typeof(string)],
        "longstr" => [typeof(string), typeof(ReadOnlyMemory<byte>)],
        "table" => [typeof(FieldTable)],
        _ => throw new InvalidOperationException($"unknown wire type {wireType}"),
    };

    /// <summary>An instance with every field empty, except field <paramref name="markedField"/> which gets its marker value.</summary>
    private static IAmqpMethod CreateInstance(Type type, SpecMethod method, int markedField)
    {
        var constructor = Constructor(type);
        if (constructor is null)
        {
            return (IAmqpMethod)Activator.CreateInstance(type)!;
        }

        var parameters = constructor.GetParameters();
        var nonReserved = method.Fields.Select((f, i) => (f, i)).Where(x => !x.f.IsReserved).ToList();
        var args = new object?[parameters.Length];
        for (var p = 0; p < parameters.Length; p++)
        {
            var (field, index) = nonReserved[p];
            args[p] = index == markedField ? MarkerValue(parameters[p].ParameterType, field.Type) : EmptyValue(parameters[p].ParameterType);
        }

        return (IAmqpMethod)constructor.Invoke(args);
    }

    private static object? EmptyValue(Type clr) =>
        clr == typeof(string) ? "" :
        clr == typeof(bool) ? false :
        clr == typeof(FieldTable) ? null :
        clr == typeof(ReadOnlyMemory<byte>) ? ReadOnlyMemory<byte>.Empty :
        Convert.ChangeType(0, clr, System.Globalization.CultureInfo.InvariantCulture);

    private static object MarkerValue(Type clr, string wireType) => wireType switch
    {
        "bit" => true,
        "octet" => (byte)0x5a,
        "short" => (ushort)0x1234,
        "long" => 0x12345678u,
        "longlong" => 0x0102030405060708ul,
        "shortstr" => "a",
        "longstr" when clr == typeof(string) => "a",
        "longstr" => new ReadOnlyMemory<byte>([0x61]),
        "table" => new FieldTable { { "a", null } },
        _ => throw new InvalidOperationException(wireType),
    };

    /// <summary>The spec's layout: empty encodings for every field and the marker encoding for one.</summary>
    private static byte[] Layout(SpecMethod method, int markedField)
    {
        var bytes = new List<byte>();
        var bitsInOctet = 8; // no open bit octet
        for (var i = 0; i < method.Fields.Count; i++)
        {
            var type = method.Fields[i].Type;
            var marked = i == markedField;
            if (type == "bit")
            {
                if (bitsInOctet == 8)
                {
                    bytes.Add(0);
                    bitsInOctet = 0;
                }

                if (marked)
                {
                    bytes[^1] |= (byte)(1 << bitsInOctet);
                }

                bitsInOctet++;
                continue;
            }

            bitsInOctet = 8;
            bytes.AddRange((type, marked) switch
            {
                ("octet", false) => Hex.Parse("00"),
                ("octet", true) => Hex.Parse("5a"),
                ("short", false) => Hex.Parse("0000"),
                ("short", true) => Hex.Parse("1234"),
                ("long", false) => Hex.Parse("00000000"),
                ("long", true) => Hex.Parse("12345678"),
                ("longlong", false) => Hex.Parse("0000000000000000"),
                ("longlong", true) => Hex.Parse("0102030405060708"),
                ("shortstr", false) => Hex.Parse("00"),
                ("shortstr", true) => Hex.Parse("01 61"),
                ("longstr", false) => Hex.Parse("00000000"),
                ("longstr", true) => Hex.Parse("00000001 61"),
                ("table", false) => Hex.Parse("00000000"),
                ("table", true) => Hex.Parse("00000003 01 61 56"),
                _ => throw new InvalidOperationException(type),
            });
        }

        return [.. bytes];
    }

    private static byte[] Write(IAmqpMethod method)
    {
        var bytes = new byte[method.GetRequiredBufferSize()];
        var written = method.WriteTo(bytes);
        Assert.Equal(bytes.Length, written);
        return bytes;
    }

    private static IAmqpMethod ReadVia(Type type, byte[] arguments) =>
        (IAmqpMethod)typeof(AmqpSpecConsistencyTests).GetMethod(nameof(ReadGeneric), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(type)
            .Invoke(null, [arguments])!;

    private static IAmqpMethod ReadGeneric<T>(byte[] arguments)
        where T : struct, IAmqpMethod<T> => T.Read(arguments);
}
