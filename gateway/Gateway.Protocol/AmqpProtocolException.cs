using Gateway.Protocol.Spec;

namespace Gateway.Protocol;

/// <summary>
/// A protocol violation found while decoding, carrying the reply code RabbitMQ would answer with
/// (e.g. 501 FRAME_ERROR for a malformed frame). The server turns it into connection.close.
/// </summary>
public sealed class AmqpProtocolException : Exception
{
    public AmqpProtocolException(ReplyCode replyCode, string explanation)
        : base(explanation)
    {
        ReplyCode = replyCode;
    }

    public AmqpProtocolException()
        : this(ReplyCode.FrameError, "malformed frame")
    {
    }

    public AmqpProtocolException(string message)
        : this(ReplyCode.FrameError, message)
    {
    }

    public AmqpProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        ReplyCode = ReplyCode.FrameError;
    }

    public ReplyCode ReplyCode { get; }
}
