namespace Gateway.Protocol.Spec;

/// <summary>AMQP class ids (spec "class" elements, plus RabbitMQ's confirm class 85).</summary>
public static class AmqpClassId
{
    public const ushort Connection = 10;
    public const ushort Channel = 20;
    public const ushort Access = 30;
    public const ushort Exchange = 40;
    public const ushort Queue = 50;
    public const ushort Basic = 60;
    public const ushort Confirm = 85;
    public const ushort Tx = 90;
}

/// <summary>
/// Every method of AMQP 0-9-1 with RabbitMQ's extensions, as (class id &lt;&lt; 16 | method id),
/// the layout RabbitMQ.Client's ProtocolCommandId uses. Checked against Spec/amqp0-9-1.xml by
/// tests/Gateway.Protocol.Tests/Spec/AmqpSpecConsistencyTests.
/// </summary>
public enum AmqpMethodId : uint
{
    ConnectionStart = (10u << 16) | 10,
    ConnectionStartOk = (10u << 16) | 11,
    ConnectionSecure = (10u << 16) | 20,
    ConnectionSecureOk = (10u << 16) | 21,
    ConnectionTune = (10u << 16) | 30,
    ConnectionTuneOk = (10u << 16) | 31,
    ConnectionOpen = (10u << 16) | 40,
    ConnectionOpenOk = (10u << 16) | 41,
    ConnectionClose = (10u << 16) | 50,
    ConnectionCloseOk = (10u << 16) | 51,
    ConnectionBlocked = (10u << 16) | 60,
    ConnectionUnblocked = (10u << 16) | 61,
    ConnectionUpdateSecret = (10u << 16) | 70,
    ConnectionUpdateSecretOk = (10u << 16) | 71,

    ChannelOpen = (20u << 16) | 10,
    ChannelOpenOk = (20u << 16) | 11,
    ChannelFlow = (20u << 16) | 20,
    ChannelFlowOk = (20u << 16) | 21,
    ChannelClose = (20u << 16) | 40,
    ChannelCloseOk = (20u << 16) | 41,

    AccessRequest = (30u << 16) | 10,
    AccessRequestOk = (30u << 16) | 11,

    ExchangeDeclare = (40u << 16) | 10,
    ExchangeDeclareOk = (40u << 16) | 11,
    ExchangeDelete = (40u << 16) | 20,
    ExchangeDeleteOk = (40u << 16) | 21,
    ExchangeBind = (40u << 16) | 30,
    ExchangeBindOk = (40u << 16) | 31,
    ExchangeUnbind = (40u << 16) | 40,
    /// <summary>51, not 41: a RabbitMQ quirk that is on the wire (amqp-rabbitmq-0.9.1.json).</summary>
    ExchangeUnbindOk = (40u << 16) | 51,

    QueueDeclare = (50u << 16) | 10,
    QueueDeclareOk = (50u << 16) | 11,
    QueueBind = (50u << 16) | 20,
    QueueBindOk = (50u << 16) | 21,
    QueuePurge = (50u << 16) | 30,
    QueuePurgeOk = (50u << 16) | 31,
    QueueDelete = (50u << 16) | 40,
    QueueDeleteOk = (50u << 16) | 41,
    QueueUnbind = (50u << 16) | 50,
    QueueUnbindOk = (50u << 16) | 51,

    BasicQos = (60u << 16) | 10,
    BasicQosOk = (60u << 16) | 11,
    BasicConsume = (60u << 16) | 20,
    BasicConsumeOk = (60u << 16) | 21,
    BasicCancel = (60u << 16) | 30,
    BasicCancelOk = (60u << 16) | 31,
    BasicPublish = (60u << 16) | 40,
    BasicReturn = (60u << 16) | 50,
    BasicDeliver = (60u << 16) | 60,
    BasicGet = (60u << 16) | 70,
    BasicGetOk = (60u << 16) | 71,
    BasicGetEmpty = (60u << 16) | 72,
    BasicAck = (60u << 16) | 80,
    BasicReject = (60u << 16) | 90,
    BasicRecoverAsync = (60u << 16) | 100,
    BasicRecover = (60u << 16) | 110,
    BasicRecoverOk = (60u << 16) | 111,
    BasicNack = (60u << 16) | 120,

    ConfirmSelect = (85u << 16) | 10,
    ConfirmSelectOk = (85u << 16) | 11,

    TxSelect = (90u << 16) | 10,
    TxSelectOk = (90u << 16) | 11,
    TxCommit = (90u << 16) | 20,
    TxCommitOk = (90u << 16) | 21,
    TxRollback = (90u << 16) | 30,
    TxRollbackOk = (90u << 16) | 31,
}

public static class AmqpMethodIds
{
    public static AmqpMethodId Create(ushort classId, ushort methodId) => (AmqpMethodId)(((uint)classId << 16) | methodId);

    public static ushort ClassId(this AmqpMethodId id) => (ushort)((uint)id >> 16);

    public static ushort MethodId(this AmqpMethodId id) => (ushort)((uint)id & 0xFFFF);

    /// <summary>True for ids this codec knows; the server answers anything else as an unknown method.</summary>
    public static bool IsKnown(this AmqpMethodId id) => Enum.IsDefined(id);

    /// <summary>Whether a method carries content (header + body frames follow it): spec "content" attribute.</summary>
    public static bool HasContent(this AmqpMethodId id) =>
        id is AmqpMethodId.BasicPublish or AmqpMethodId.BasicReturn or AmqpMethodId.BasicDeliver or AmqpMethodId.BasicGetOk;

    /// <summary>"class.method" as RabbitMQ names it in logs and error texts, e.g. "queue.declare".</summary>
    public static string Name(this AmqpMethodId id) => id switch
    {
        AmqpMethodId.ConnectionStart => "connection.start",
        AmqpMethodId.ConnectionStartOk => "connection.start_ok",
        AmqpMethodId.ConnectionSecure => "connection.secure",
        AmqpMethodId.ConnectionSecureOk => "connection.secure_ok",
        AmqpMethodId.ConnectionTune => "connection.tune",
        AmqpMethodId.ConnectionTuneOk => "connection.tune_ok",
        AmqpMethodId.ConnectionOpen => "connection.open",
        AmqpMethodId.ConnectionOpenOk => "connection.open_ok",
        AmqpMethodId.ConnectionClose => "connection.close",
        AmqpMethodId.ConnectionCloseOk => "connection.close_ok",
        AmqpMethodId.ConnectionBlocked => "connection.blocked",
        AmqpMethodId.ConnectionUnblocked => "connection.unblocked",
        AmqpMethodId.ConnectionUpdateSecret => "connection.update_secret",
        AmqpMethodId.ConnectionUpdateSecretOk => "connection.update_secret_ok",
        AmqpMethodId.ChannelOpen => "channel.open",
        AmqpMethodId.ChannelOpenOk => "channel.open_ok",
        AmqpMethodId.ChannelFlow => "channel.flow",
        AmqpMethodId.ChannelFlowOk => "channel.flow_ok",
        AmqpMethodId.ChannelClose => "channel.close",
        AmqpMethodId.ChannelCloseOk => "channel.close_ok",
        AmqpMethodId.AccessRequest => "access.request",
        AmqpMethodId.AccessRequestOk => "access.request_ok",
        AmqpMethodId.ExchangeDeclare => "exchange.declare",
        AmqpMethodId.ExchangeDeclareOk => "exchange.declare_ok",
        AmqpMethodId.ExchangeDelete => "exchange.delete",
        AmqpMethodId.ExchangeDeleteOk => "exchange.delete_ok",
        AmqpMethodId.ExchangeBind => "exchange.bind",
        AmqpMethodId.ExchangeBindOk => "exchange.bind_ok",
        AmqpMethodId.ExchangeUnbind => "exchange.unbind",
        AmqpMethodId.ExchangeUnbindOk => "exchange.unbind_ok",
        AmqpMethodId.QueueDeclare => "queue.declare",
        AmqpMethodId.QueueDeclareOk => "queue.declare_ok",
        AmqpMethodId.QueueBind => "queue.bind",
        AmqpMethodId.QueueBindOk => "queue.bind_ok",
        AmqpMethodId.QueuePurge => "queue.purge",
        AmqpMethodId.QueuePurgeOk => "queue.purge_ok",
        AmqpMethodId.QueueDelete => "queue.delete",
        AmqpMethodId.QueueDeleteOk => "queue.delete_ok",
        AmqpMethodId.QueueUnbind => "queue.unbind",
        AmqpMethodId.QueueUnbindOk => "queue.unbind_ok",
        AmqpMethodId.BasicQos => "basic.qos",
        AmqpMethodId.BasicQosOk => "basic.qos_ok",
        AmqpMethodId.BasicConsume => "basic.consume",
        AmqpMethodId.BasicConsumeOk => "basic.consume_ok",
        AmqpMethodId.BasicCancel => "basic.cancel",
        AmqpMethodId.BasicCancelOk => "basic.cancel_ok",
        AmqpMethodId.BasicPublish => "basic.publish",
        AmqpMethodId.BasicReturn => "basic.return",
        AmqpMethodId.BasicDeliver => "basic.deliver",
        AmqpMethodId.BasicGet => "basic.get",
        AmqpMethodId.BasicGetOk => "basic.get_ok",
        AmqpMethodId.BasicGetEmpty => "basic.get_empty",
        AmqpMethodId.BasicAck => "basic.ack",
        AmqpMethodId.BasicReject => "basic.reject",
        AmqpMethodId.BasicRecoverAsync => "basic.recover_async",
        AmqpMethodId.BasicRecover => "basic.recover",
        AmqpMethodId.BasicRecoverOk => "basic.recover_ok",
        AmqpMethodId.BasicNack => "basic.nack",
        AmqpMethodId.ConfirmSelect => "confirm.select",
        AmqpMethodId.ConfirmSelectOk => "confirm.select_ok",
        AmqpMethodId.TxSelect => "tx.select",
        AmqpMethodId.TxSelectOk => "tx.select_ok",
        AmqpMethodId.TxCommit => "tx.commit",
        AmqpMethodId.TxCommitOk => "tx.commit_ok",
        AmqpMethodId.TxRollback => "tx.rollback",
        AmqpMethodId.TxRollbackOk => "tx.rollback_ok",
        _ => $"{id.ClassId()}.{id.MethodId()}",
    };
}
