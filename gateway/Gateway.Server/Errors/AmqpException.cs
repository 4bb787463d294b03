using Gateway.Protocol.Spec;

namespace Gateway.Server.Errors;

/// <summary>
/// An AMQP error to report to the client. Whether it closes the channel or the whole connection
/// follows from its code (<see cref="ReplyCodes.IsHardError"/>) unless forced; only
/// <c>AmqpConnection</c> turns it into channel.close or connection.close, like lavinmq's
/// send_channel_close / send_connection_close.
/// </summary>
public sealed class AmqpException : Exception
{
    public AmqpException(ReplyCode replyCode, string explanation, AmqpMethodId? method = null, bool forceConnectionClose = false)
        : base(explanation)
    {
        ReplyCode = replyCode;
        Method = method;
        IsConnectionError = forceConnectionClose || replyCode.IsHardError();
    }

    public AmqpException()
        : this(ReplyCode.InternalError, "internal error")
    {
    }

    public AmqpException(string message)
        : this(ReplyCode.InternalError, message)
    {
    }

    public AmqpException(string message, Exception innerException)
        : base(message, innerException)
    {
        ReplyCode = ReplyCode.InternalError;
        IsConnectionError = true;
    }

    public ReplyCode ReplyCode { get; }

    /// <summary>The method that caused it; its class/method ids go in the close frame (0/0 if none).</summary>
    public AmqpMethodId? Method { get; }

    public bool IsConnectionError { get; }

    /// <summary>
    /// "CODE_NAME - explanation", RabbitMQ's reply-text shape, cut to the 255-byte shortstr limit
    /// on a character boundary.
    /// </summary>
    public string ReplyText => FormatReplyText(ReplyCode, Message);

    public static string FormatReplyText(ReplyCode code, string explanation)
    {
        var text = $"{code.Name()} - {explanation}";
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= 255)
        {
            return text;
        }

        var length = Math.Min(text.Length, 255);
        while (System.Text.Encoding.UTF8.GetByteCount(text.AsSpan(0, length)) > 255)
        {
            length--;
        }

        return text[..length];
    }
}
