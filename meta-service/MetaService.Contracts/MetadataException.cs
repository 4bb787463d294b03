namespace MetaService.Contracts;

/// <summary>
/// A refusal with RabbitMQ's semantics: <see cref="ReplyCode"/> is the AMQP code the gateway sends
/// (403 access refused, 404 not found, 405 resource locked, 406 precondition failed, 530 not allowed)
/// and <see cref="Exception.Message"/> RabbitMQ's explanation (e.g. "inequivalent arg 'durable' for queue 'q'
/// in vhost '/': received 'false' but current is 'true'"). The HTTP API maps it to a problem response.
/// </summary>
public sealed class MetadataException : Exception
{
    public MetadataException(ushort replyCode, string explanation)
        : base(explanation)
    {
        ReplyCode = replyCode;
    }

    public MetadataException()
    {
    }

    public MetadataException(string message)
        : base(message)
    {
    }

    public MetadataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ushort ReplyCode { get; }

    public const ushort AccessRefused = 403;
    public const ushort NotFound = 404;
    public const ushort ResourceLocked = 405;
    public const ushort PreconditionFailed = 406;
    public const ushort NotAllowed = 530;
}
