using System.Diagnostics;
using System.Globalization;
using Gateway.Log;
using Gateway.Log.Commit;

// Appends/s and MB/s for 1 KB records with fsync before completion, under 1, 16 and 256
// concurrent appenders; fan-out to 10 topics; read throughput; recovery time.
string root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "gateway-log-bench");
double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3;
const int RecordSize = 1024;
byte[] body = new byte[RecordSize];
Random.Shared.NextBytes(body);

Console.WriteLine($"dir={root} seconds={seconds} record body={RecordSize} B, policy=Always (fsync before completion)");
Console.WriteLine("case                          appends/s      MB/s   fsyncs/s  appends/fsync");
foreach (int concurrency in new[] { 1, 16, 256 })
{
    await RunAsync($"append x{concurrency}", concurrency, topics: 1);
}

await RunAsync("fan-out 10 topics x16", 16, topics: 10);
await RunAsync("fan-out 10 topics x256", 256, topics: 10);

async Task RunAsync(string name, int concurrency, int topics)
{
    string dir = Path.Combine(root, Guid.NewGuid().ToString("N"));
    string[] names = [.. Enumerable.Range(0, topics).Select(i => "q" + i)];
    long appends = 0;
    double elapsed;
    long flushesBefore;
    await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(new CommitLogOptions { Directory = dir }))
    {
        foreach (string t in names)
        {
            await log.CreateTopicAsync(t);
        }

        var message = new LogMessage(new byte[32], body, 0, names);
        var stopwatch = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        flushesBefore = log.CommitLog.Fsyncs;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (stopwatch.Elapsed < deadline)
            {
                await log.AppendAsync(message);
                Interlocked.Increment(ref appends);
            }
        }));
        elapsed = stopwatch.Elapsed.TotalSeconds;
        long fsyncs = log.CommitLog.Fsyncs - flushesBefore;
        long bytes = log.CommitLog.EndPosition;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-28} {appends / elapsed,10:F0} {bytes / elapsed / 1e6,9:F1} {fsyncs / elapsed,10:F0} {(double)appends / Math.Max(1, fsyncs),14:F1}"));

        if (name == "append x256")
        {
            var read = Stopwatch.StartNew();
            long count = 0;
            for (long offset = 0; offset < log.EndOffset("q0");)
            {
                IReadOnlyList<StoredMessage> batch = log.Read("q0", offset, 1000);
                count += batch.Count;
                offset += batch.Count;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{"read q0 (warm cache)",-28} {count / read.Elapsed.TotalSeconds,10:F0} {bytes / read.Elapsed.TotalSeconds / 1e6,9:F1}"));
        }
    }

    if (name == "append x256")
    {
        var recover = Stopwatch.StartNew();
        await using EmbeddedMessageLog reopened = EmbeddedMessageLog.Open(new CommitLogOptions { Directory = dir });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"recovery + index rebuild of {reopened.CommitLog.Recovery.Records} records: {recover.Elapsed.TotalMilliseconds:F0} ms"));
    }

    Directory.Delete(dir, recursive: true);
}

