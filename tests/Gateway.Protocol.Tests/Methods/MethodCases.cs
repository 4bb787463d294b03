using Gateway.Protocol.Methods.Access;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Confirm;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Methods.Exchange;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Methods.Tx;
using Gateway.Protocol.Types;

namespace Gateway.Protocol.Tests.Methods;

/// <summary>
/// Hand-written golden frames for every method. Each row reads
/// <c>type | channel | payload size | class id, method id | arguments… | frame-end</c>;
/// sizes were counted by hand from the spec field list, never taken from the encoder.
/// Bit octets: the first bit of a run is the least significant bit (spec §4.2.5.2).
/// Connection-class methods travel on channel 0, everything else on channel 1.
/// </summary>
public static class MethodCases
{
    public static IReadOnlyList<MethodCase> All { get; } =
    [
        // ---- connection (10) ----
        MethodCase.Create(
            new ConnectionStart(0, 9, new FieldTable { { "v", true } }, "PLAIN", "en_US"),
            0,
            "01 0000 00000020 000a 000a | 00 09 | 00000004 01 76 74 01 | 00000005 504c41494e | 00000005 656e5f5553 | ce"),
        MethodCase.Create(
            new ConnectionStartOk(new FieldTable { { "c", false } }, "PLAIN", new byte[] { 0, (byte)'u', 0, (byte)'p' }, "en_US"),
            0,
            "01 0000 00000020 000a 000b | 00000004 01 63 74 00 | 05 504c41494e | 00000004 00750070 | 05 656e5f5553 | ce"),
        MethodCase.Create(
            new ConnectionSecure("ch"u8.ToArray()),
            0,
            "01 0000 0000000a 000a 0014 | 00000002 6368 | ce"),
        MethodCase.Create(
            new ConnectionSecureOk(new byte[] { 1, 2, 3 }),
            0,
            "01 0000 0000000b 000a 0015 | 00000003 010203 | ce"),
        MethodCase.Create(
            new ConnectionTune(2047, 131072, 60),
            0,
            "01 0000 0000000c 000a 001e | 07ff | 00020000 | 003c | ce"),
        MethodCase.Create(
            new ConnectionTuneOk(2047, 4096, 0),
            0,
            "01 0000 0000000c 000a 001f | 07ff | 00001000 | 0000 | ce"),
        // virtual-host "/", then reserved-1 (empty shortstr) and reserved-2 (one bit, clear)
        MethodCase.Create(
            new ConnectionOpen("/"),
            0,
            "01 0000 00000008 000a 0028 | 01 2f | 00 | 00 | ce"),
        MethodCase.Create(
            new ConnectionOpenOk(),
            0,
            "01 0000 00000005 000a 0029 | 00 | ce"),
        MethodCase.Create(
            new ConnectionClose(530, "NOT_ALLOWED", 10, 40),
            0,
            "01 0000 00000016 000a 0032 | 0212 | 0b 4e4f545f414c4c4f574544 | 000a | 0028 | ce"),
        MethodCase.Create(
            new ConnectionCloseOk(),
            0,
            "01 0000 00000004 000a 0033 | ce"),
        MethodCase.Create(
            new ConnectionBlocked("mem"),
            0,
            "01 0000 00000008 000a 003c | 03 6d656d | ce"),
        MethodCase.Create(
            new ConnectionUnblocked(),
            0,
            "01 0000 00000004 000a 003d | ce"),
        MethodCase.Create(
            new ConnectionUpdateSecret("tok"u8.ToArray(), "r"),
            0,
            "01 0000 0000000d 000a 0046 | 00000003 746f6b | 01 72 | ce"),
        MethodCase.Create(
            new ConnectionUpdateSecretOk(),
            0,
            "01 0000 00000004 000a 0047 | ce"),

        // ---- channel (20) ----
        MethodCase.Create(new ChannelOpen(), 1, "01 0001 00000005 0014 000a | 00 | ce"),
        MethodCase.Create(new ChannelOpenOk(), 1, "01 0001 00000008 0014 000b | 00000000 | ce"),
        MethodCase.Create(new ChannelFlow(true), 1, "01 0001 00000005 0014 0014 | 01 | ce"),
        MethodCase.Create(new ChannelFlowOk(true), 1, "01 0001 00000005 0014 0015 | 01 | ce"),
        MethodCase.Create(
            new ChannelClose(404, "NOT_FOUND", 50, 10),
            1,
            "01 0001 00000014 0014 0028 | 0194 | 09 4e4f545f464f554e44 | 0032 | 000a | ce"),
        MethodCase.Create(new ChannelCloseOk(), 1, "01 0001 00000004 0014 0029 | ce"),

        // ---- access (30) ----
        // exclusive=1 passive=0 active=1 write=0 read=1 → bits 0, 2, 4 → 0x15
        MethodCase.Create(
            new AccessRequest("/data", exclusive: true, passive: false, active: true, write: false, read: true),
            1,
            "01 0001 0000000b 001e 000a | 05 2f64617461 | 15 | ce"),
        MethodCase.Create(new AccessRequestOk(1), 1, "01 0001 00000006 001e 000b | 0001 | ce"),

        // ---- exchange (40) ----
        // durable (bit 1) + internal (bit 3) → 0x0a; arguments {"ae": S "x"}
        MethodCase.Create(
            new ExchangeDeclare("ex", "topic", durable: true, @internal: true, arguments: new FieldTable { { "ae", "x"u8.ToArray() } }),
            1,
            "01 0001 0000001d 0028 000a | 0000 | 02 6578 | 05 746f706963 | 0a | 00000009 02 6165 53 00000001 78 | ce"),
        MethodCase.Create(new ExchangeDeclareOk(), 1, "01 0001 00000004 0028 000b | ce"),
        MethodCase.Create(
            new ExchangeDelete("ex", ifUnused: true),
            1,
            "01 0001 0000000a 0028 0014 | 0000 | 02 6578 | 01 | ce"),
        MethodCase.Create(new ExchangeDeleteOk(), 1, "01 0001 00000004 0028 0015 | ce"),
        MethodCase.Create(
            new ExchangeBind("d", "s", "rk", noWait: true),
            1,
            "01 0001 00000012 0028 001e | 0000 | 01 64 | 01 73 | 02 726b | 01 | 00000000 | ce"),
        MethodCase.Create(new ExchangeBindOk(), 1, "01 0001 00000004 0028 001f | ce"),
        MethodCase.Create(
            new ExchangeUnbind("d", "s", "rk", arguments: new FieldTable { { "k", 7 } }),
            1,
            "01 0001 00000019 0028 0028 | 0000 | 01 64 | 01 73 | 02 726b | 00 | 00000007 01 6b 49 00000007 | ce"),
        MethodCase.Create(new ExchangeUnbindOk(), 1, "01 0001 00000004 0028 0033 | ce"),

        // ---- queue (50) ----
        // durable (bit 1) + exclusive (bit 2) → 0x06; arguments {"x-expires": l 60000}
        MethodCase.Create(
            new QueueDeclare("q", durable: true, exclusive: true, arguments: new FieldTable { { "x-expires", 60000L } }),
            1,
            "01 0001 00000020 0032 000a | 0000 | 01 71 | 06 | 00000013 09 782d65787069726573 6c 000000000000ea60 | ce"),
        MethodCase.Create(
            new QueueDeclareOk("amq.gen-X", 5, 2),
            1,
            "01 0001 00000016 0032 000b | 09 616d712e67656e2d58 | 00000005 | 00000002 | ce"),
        MethodCase.Create(
            new QueueBind("q", "ex", "rk", noWait: true),
            1,
            "01 0001 00000013 0032 0014 | 0000 | 01 71 | 02 6578 | 02 726b | 01 | 00000000 | ce"),
        MethodCase.Create(new QueueBindOk(), 1, "01 0001 00000004 0032 0015 | ce"),
        MethodCase.Create(
            new QueuePurge("q", noWait: true),
            1,
            "01 0001 00000009 0032 001e | 0000 | 01 71 | 01 | ce"),
        MethodCase.Create(new QueuePurgeOk(3), 1, "01 0001 00000008 0032 001f | 00000003 | ce"),
        // if-unused=0, if-empty=1 (bit 1), no-wait=0 → 0x02
        MethodCase.Create(
            new QueueDelete("q", ifEmpty: true),
            1,
            "01 0001 00000009 0032 0028 | 0000 | 01 71 | 02 | ce"),
        MethodCase.Create(new QueueDeleteOk(7), 1, "01 0001 00000008 0032 0029 | 00000007 | ce"),
        // No no-wait bit: the table follows the routing key at once. arguments {"a": V}
        MethodCase.Create(
            new QueueUnbind("q", "ex", "rk", new FieldTable { { "a", null } }),
            1,
            "01 0001 00000015 0032 0032 | 0000 | 01 71 | 02 6578 | 02 726b | 00000003 01 61 56 | ce"),
        MethodCase.Create(new QueueUnbindOk(), 1, "01 0001 00000004 0032 0033 | ce"),

        // ---- basic (60) ----
        MethodCase.Create(
            new BasicQos(65536, 10, true),
            1,
            "01 0001 0000000b 003c 000a | 00010000 | 000a | 01 | ce"),
        MethodCase.Create(new BasicQosOk(), 1, "01 0001 00000004 003c 000b | ce"),
        // no-local=0 no-ack=1 exclusive=1 no-wait=0 → 0x06; arguments {"p": I 5}
        MethodCase.Create(
            new BasicConsume("q", "ctag", noAck: true, exclusive: true, arguments: new FieldTable { { "p", 5 } }),
            1,
            "01 0001 00000019 003c 0014 | 0000 | 01 71 | 04 63746167 | 06 | 00000007 01 70 49 00000005 | ce"),
        MethodCase.Create(new BasicConsumeOk("ctag"), 1, "01 0001 00000009 003c 0015 | 04 63746167 | ce"),
        MethodCase.Create(new BasicCancel("ctag", noWait: true), 1, "01 0001 0000000a 003c 001e | 04 63746167 | 01 | ce"),
        MethodCase.Create(new BasicCancelOk("ctag"), 1, "01 0001 00000009 003c 001f | 04 63746167 | ce"),
        MethodCase.Create(
            new BasicPublish("ex", "rk", mandatory: true),
            1,
            "01 0001 0000000d 003c 0028 | 0000 | 02 6578 | 02 726b | 01 | ce"),
        MethodCase.Create(
            new BasicReturn(312, "NO_ROUTE", "ex", "rk"),
            1,
            "01 0001 00000015 003c 0032 | 0138 | 08 4e4f5f524f555445 | 02 6578 | 02 726b | ce"),
        MethodCase.Create(
            new BasicDeliver("ctag", 0x0000000100000002, true, "ex", "rk"),
            1,
            "01 0001 00000018 003c 003c | 04 63746167 | 0000000100000002 | 01 | 02 6578 | 02 726b | ce"),
        MethodCase.Create(
            new BasicGet("q", noAck: true),
            1,
            "01 0001 00000009 003c 0046 | 0000 | 01 71 | 01 | ce"),
        MethodCase.Create(
            new BasicGetOk(2, false, "", "q", 4),
            1,
            "01 0001 00000014 003c 0047 | 0000000000000002 | 00 | 00 | 01 71 | 00000004 | ce"),
        MethodCase.Create(new BasicGetEmpty(), 1, "01 0001 00000005 003c 0048 | 00 | ce"),
        MethodCase.Create(new BasicAck(5, multiple: true), 1, "01 0001 0000000d 003c 0050 | 0000000000000005 | 01 | ce"),
        MethodCase.Create(new BasicReject(6, requeue: true), 1, "01 0001 0000000d 003c 005a | 0000000000000006 | 01 | ce"),
        MethodCase.Create(new BasicRecoverAsync(true), 1, "01 0001 00000005 003c 0064 | 01 | ce"),
        MethodCase.Create(new BasicRecover(true), 1, "01 0001 00000005 003c 006e | 01 | ce"),
        MethodCase.Create(new BasicRecoverOk(), 1, "01 0001 00000004 003c 006f | ce"),
        // multiple=0 requeue=1 (bit 1) → 0x02
        MethodCase.Create(
            new BasicNack(7, multiple: false, requeue: true),
            1,
            "01 0001 0000000d 003c 0078 | 0000000000000007 | 02 | ce"),

        // ---- confirm (85) ----
        MethodCase.Create(new ConfirmSelect(noWait: true), 1, "01 0001 00000005 0055 000a | 01 | ce"),
        MethodCase.Create(new ConfirmSelectOk(), 1, "01 0001 00000004 0055 000b | ce"),

        // ---- tx (90) ----
        MethodCase.Create(new TxSelect(), 1, "01 0001 00000004 005a 000a | ce"),
        MethodCase.Create(new TxSelectOk(), 1, "01 0001 00000004 005a 000b | ce"),
        MethodCase.Create(new TxCommit(), 1, "01 0001 00000004 005a 0014 | ce"),
        MethodCase.Create(new TxCommitOk(), 1, "01 0001 00000004 005a 0015 | ce"),
        MethodCase.Create(new TxRollback(), 1, "01 0001 00000004 005a 001e | ce"),
        MethodCase.Create(new TxRollbackOk(), 1, "01 0001 00000004 005a 001f | ce"),
    ];

    public static MethodCase Get(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in All)
        {
            data.Add(c.Name);
        }

        return data;
    }

    public static TheoryData<string> NamesWithArguments()
    {
        var data = new TheoryData<string>();
        foreach (var c in All.Where(c => c.Arguments.Length > 0))
        {
            data.Add(c.Name);
        }

        return data;
    }
}
