namespace Gateway.Protocol.Tests.Support;

/// <summary>Expected wire bytes are written as hex with free spacing, grouped by field so they read like the spec.</summary>
internal static class Hex
{
    public static byte[] Parse(string hex)
    {
        var compact = string.Concat(hex.Where(c => !char.IsWhiteSpace(c) && c != '|'));
        return Convert.FromHexString(compact);
    }

    public static string Format(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
