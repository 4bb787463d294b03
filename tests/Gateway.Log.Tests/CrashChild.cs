using System.Buffers.Binary;
using System.Globalization;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Entry point of this assembly. Under the test runner it does nothing; run as
/// <c>dotnet Gateway.Log.Tests.dll crash-child DIR FIRSTSEQ</c> it appends records forever with
/// 8 concurrent appenders (fsync before completion) and prints "ack SEQ POSITION" for each
/// completed append, until the crash test kills it with SIGKILL. Run with <c>consume-child DIR FIRSTSEQ</c>
/// it runs <see cref="ConsumeAsync"/> instead, with <c>batch-child DIR FIRSTBATCH</c> <see cref="AppendBatchesAsync"/>.
/// </summary>
public static class CrashChild
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["consume-child", string consumeDir, string firstSeq])
        {
            await ConsumeAsync(consumeDir, long.Parse(firstSeq, CultureInfo.InvariantCulture));
            return 0;
        }

        if (args is ["batch-child", string batchDir, string firstBatch])
        {
            await AppendBatchesAsync(batchDir, long.Parse(firstBatch, CultureInfo.InvariantCulture));
            return 0;
        }

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

    /// <summary>
    /// Publishes and consumes topic "q" forever, with maintenance (retention, checkpoints, segment
    /// reclamation) every 50 ms: prints "ack SEQ OFFSET" for each completed append, "settling OFFSET"
    /// before each settle and "settled OFFSET" once the state journal holding it is flushed. Every offset divisible by 5 is
    /// requeued on its first delivery and settled on its redelivery.
    /// </summary>
    private static async Task ConsumeAsync(string dir, long next)
    {
        await using EmbeddedMessageLog log = EmbeddedMessageLog.Open(
            new CommitLogOptions { Directory = dir, SegmentSize = 64 * 1024 },
            new MessageLogOptions { MaintenanceInterval = TimeSpan.FromMilliseconds(50), StateFlushInterval = TimeSpan.FromMilliseconds(20) });
        await log.CreateTopicAsync("q");
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        while (true)
        {
            long first = next;
            AppendResult[] appended = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => log.AppendAsync(Record(first + i) with { Topics = ["q"] }).AsTask()));
            next += 20;
            for (int i = 0; i < appended.Length; i++)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {first + i} {appended[i].TopicOffsets[0]}"));
            }

            var settled = new List<long>();
            foreach (TakenMessage taken in log.TakeReady("q", 100))
            {
                long offset = taken.Message.Offset;
                if (offset % 5 == 0 && !taken.Redelivered)
                {
                    log.Requeue("q", offset);
                }
                else
                {
                    // Announced first: the background flush may make it durable before the line below.
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"settling {offset}"));
                    if (log.Settle("q", offset))
                    {
                        settled.Add(offset);
                    }
                }
            }

            log.FlushState();
            foreach (long offset in settled)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"settled {offset}"));
            }
        }
    }

    /// <summary>
    /// Appends atomic batches of 1 to 40 records forever with 4 concurrent appenders and prints
    /// "ack BATCH COUNT" once each batch is durable. Each record's properties say which batch it belongs
    /// to, its index in it and the batch's size (<see cref="BatchAppendTests.BatchTag"/>).
    /// </summary>
    private static async Task AppendBatchesAsync(string dir, long next)
    {
        await using CommitLog log = CommitLog.Open(new CommitLogOptions { Directory = dir, SegmentSize = 256 * 1024 });
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        var gate = new object();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (true)
            {
                long batch = Interlocked.Increment(ref next) - 1;
                int count = (int)(batch % 40) + 1;
                var messages = new LogMessage[count];
                for (int i = 0; i < count; i++)
                {
                    byte[] properties = new byte[16];
                    BinaryPrimitives.WriteInt64LittleEndian(properties, batch);
                    BinaryPrimitives.WriteInt32LittleEndian(properties.AsSpan(8), i);
                    BinaryPrimitives.WriteInt32LittleEndian(properties.AsSpan(12), count);
                    messages[i] = Record(batch * 100 + i) with { Properties = properties };
                }

                await log.AppendBatchAsync(messages, default);
                lock (gate)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {batch} {count}"));
                }
            }
        }));
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
