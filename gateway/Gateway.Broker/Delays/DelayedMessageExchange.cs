using System.Globalization;
using System.Text;

namespace Gateway.Broker.Delays;

/// <summary>
/// The x-delayed-message exchange type of the rabbitmq-delayed-message-exchange plugin: the names it uses and how it
/// reads a message's delay (rabbit_delayed_message_utils:get_delay and rabbit_exchange_type_delayed_message).
/// </summary>
public static class DelayedMessageExchange
{
    /// <summary>The exchange type.</summary>
    public const string TypeName = "x-delayed-message";

    /// <summary>The declare argument naming the exchange type whose routing rules it applies.</summary>
    public const string DelayedTypeArgument = "x-delayed-type";

    /// <summary>The message header carrying the delay in milliseconds.</summary>
    public const string DelayHeader = "x-delay";

    /// <summary>The longest delay the plugin holds a message for (an Erlang timer's limit, 2^32-1 ms); a longer one routes at once.</summary>
    public const long MaxDelay = 4_294_967_295;

    /// <summary>
    /// The delay a message asks for, or null when it is routed at once. As the plugin: an integer x-delay header of any
    /// width; a string holding an integer; a float, double or decimal truncated; then only 0 &lt; delay ≤ 2^32-1 delays.
    /// A missing header, another type, or a value out of that range routes the message at once.
    /// </summary>
    /// <param name="headers">The message's headers as plain values (see <see cref="Routing.VirtualHostRoutingTable.Route"/>).</param>
    public static long? DelayOf(IEnumerable<KeyValuePair<string, object?>>? headers)
    {
        if (headers is null)
        {
            return null;
        }

        object? value = null;
        bool found = false;
        foreach (KeyValuePair<string, object?> header in headers)
        {
            if (header.Key == DelayHeader)
            {
                value = header.Value;   // the last one wins, as a table lookup of a repeated key does
                found = true;
            }
        }

        if (!found)
        {
            return null;
        }

        long? delay = value switch
        {
            sbyte v => v,
            byte v => v,
            short v => v,
            ushort v => v,
            int v => v,
            uint v => v,
            long v => v,
            // The plugin's string case is binary_to_integer; a string that is not an integer routes at once here
            // (binary_to_integer would raise inside the plugin's route instead).
            byte[] text => ParseInteger(Encoding.UTF8.GetString(text)),
            string text => ParseInteger(text),
            float v => Truncate(v),
            double v => Truncate(v),
            decimal v => Truncate((double)v),
            _ => null,
        };
        return delay is > 0 and <= MaxDelay ? delay : null;
    }

    private static long? ParseInteger(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed) ? parsed : null;

    private static long? Truncate(double value) =>
        double.IsFinite(value) && Math.Abs(value) < long.MaxValue ? (long)Math.Truncate(value) : null;
}
