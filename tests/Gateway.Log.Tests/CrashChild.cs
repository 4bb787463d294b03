using System.Buffers.Binary;
using System.Globalization;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Entry point of this assembly. Under the test runner it does nothing; run as
/// <c>dotnet Gateway.Log.Tests.dll crash-child DIR FIRSTSEQ</c> it appends records forever with
/// 8 concurrent appenders (fsync before completion) and prints "ack SEQ POSITION" for each
/// completed append, until the crash test kills it with SIGKILL.
/// </summary>
public static class CrashChild
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["crash-child", string dir, string first])
        {
            return 0;
        }

        long next = long.Parse(first, CultureInfo.InvariantCulture);
        await using CommitLog log = CommitLog.Open(new CommitLogOptions { Directory = dir, SegmentSize = 256 * 1024 });
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        var gate = new object();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (true)
            {
                long seq = Interlocked.Increment(ref next) - 1;
                long position = await log.AppendAsync(Record(seq));
                lock (gate)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {seq} {position}"));
                }
            }
        }));
        return 0;
    }

    /// <summary>The record for sequence number <paramref name="seq"/>: the number in the properties, a body derived from it.</summary>
    public static LogMessage Record(long seq)
    {
        byte[] properties = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(properties, seq);
        byte[] body = new byte[(int)(seq % 5000)];
        new Random((int)seq).NextBytes(body);
        return new LogMessage(properties, body, seq, ["crash"], (uint)seq);
    }
}
