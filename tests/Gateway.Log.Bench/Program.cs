using System.Diagnostics;
using System.Globalization;
using Gateway.Log;
using Gateway.Log.Commit;

// Usage: dotnet run -c Release --project tests/Gateway.Log.Bench -- [dir] [seconds] [throughput|recovery|idle|all] [records]
// throughput: appends/s and MB/s for 1 KB records with fsync before completion under 1, 16 and 256
//             concurrent appenders; fan-out to 10 topics; read throughput.
// recovery:   open time with N (default 10 M) records on disk, with and without a checkpoint, and the
//             index memory of that one topic.
// idle:       memory per idle topic (10 000 topics holding 3 messages each).
string root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "gateway-log-bench");
double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3;
string mode = args.Length > 2 ? args[2] : "all";
long records = args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : 10_000_000;
const int RecordSize = 1024;
byte[] body = new byte[RecordSize];
Random.Shared.NextBytes(body);

if (mode is "throughput" or "all")
{
    Console.WriteLine($"dir={root} seconds={seconds} record body={RecordSize} B, policy=Always (fsync before completion)");
    Console.WriteLine("case                          appends/s      MB/s   fsyncs/s  appends/fsync");
    foreach (int concurrency in new[] { 1, 16, 256 })
    {
        await RunAsync($"append x{concurrency}", concurrency, topics: 1);
    }

    await RunAsync("fan-out 10 topics x16", 16, topics: 10);
    await RunAsync("fan-out 10 topics x256", 256, topics: 10);
}

if (mode is "recovery" or "all")
{
    await RecoveryAsync(records);
}

if (mode is "idle" or "all")
{
    await IdleTopicsAsync(10_000);
}

static double MiB(long bytes) => bytes / 1024.0 / 1024.0;

static long HeapAfterFullGc()
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    return GC.GetTotalMemory(forceFullCollection: true);
}

// N records of 100 B bodies in one topic, written without fsync (the case measures reading them back).
async Task RecoveryAsync(long count)
{
    string dir = Path.Combine(root, "recovery-" + Guid.NewGuid().ToString("N"));
    var logOptions = new CommitLogOptions { Directory = dir, FsyncPolicy = FsyncPolicy.None };
    var noCheckpoint = new MessageLogOptions { MaintenanceInterval = null, CheckpointOnDispose = false };
    byte[] small = new byte[100];
    var fill = Stopwatch.StartNew();
    await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(logOptions, noCheckpoint))
    {
        await log.CreateTopicAsync("big");
        long next = 0;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                await log.AppendAsync(new LogMessage(new byte[32], small, 1_700_000_000_000, ["big"]));
            }
        }));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {count:N0} records ({MiB(log.CommitLog.EndPosition):F0} MiB) in {fill.Elapsed.TotalSeconds:F1} s"));
    }

    // No checkpoint on disk: the whole commit log is scanned, checksummed and indexed.
    var open = Stopwatch.StartNew();
    await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(logOptions, new MessageLogOptions { MaintenanceInterval = null }))
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"open without checkpoint (full scan): {open.Elapsed.TotalSeconds:F2} s, {log.CommitLog.Recovery.Records:N0} records replayed"));
        var checkpoint = Stopwatch.StartNew();
        await log.RunMaintenanceAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first checkpoint of {count:N0} index entries: {checkpoint.Elapsed.TotalSeconds:F2} s"));
    }

    long heapBefore = HeapAfterFullGc();
    open.Restart();
    await using (EmbeddedMessageLog log = EmbeddedMessageLog.Open(logOptions, new MessageLogOptions { MaintenanceInterval = null }))
    {
        double opened = open.Elapsed.TotalSeconds;
        long heapOpen = HeapAfterFullGc() - heapBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"open with checkpoint: {opened * 1000:F0} ms, {log.CommitLog.Recovery.Records:N0} records replayed; managed heap of the open log {MiB(heapOpen):F1} MiB"));

        // Read the whole topic once: sealed chunks pass through the bounded cache.
        var read = Stopwatch.StartNew();
        long seen = 0;
        for (long offset = 0; offset < log.EndOffset("big"); offset += 16_384)
        {
            seen += log.Read("big", offset, 1).Count;
        }

        long heapRead = HeapAfterFullGc() - heapBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"after touching every index chunk ({seen} reads, {read.Elapsed.TotalSeconds:F1} s): index cache {MiB(log.IndexCacheResidentBytes):F0} MiB (budget 256), managed heap {MiB(heapRead):F0} MiB; entries on disk {MiB(count * 24):F0} MiB"));
    }

    Directory.Delete(dir, recursive: true);
}

// Memory per idle topic: each holds a few messages; two maintenance passes (checkpoint, then idle release).
async Task IdleTopicsAsync(int topics)
{
    string dir = Path.Combine(root, "idle-" + Guid.NewGuid().ToString("N"));
    await using EmbeddedMessageLog log = EmbeddedMessageLog.Open(
        new CommitLogOptions { Directory = dir, FsyncPolicy = FsyncPolicy.None }, new MessageLogOptions { MaintenanceInterval = null });
    await log.CreateTopicAsync("warm-up");
    await log.AppendAsync(new LogMessage(new byte[32], new byte[100], 0, ["warm-up"]));
    await log.RunMaintenanceAsync();
    long heapBefore = HeapAfterFullGc();
    long rssBefore = Environment.WorkingSet;
    for (int i = 0; i < topics; i++)
    {
        string name = "queue-" + i.ToString("D5", CultureInfo.InvariantCulture);
        await log.CreateTopicAsync(name);
        for (int m = 0; m < 3; m++)
        {
            await log.AppendAsync(new LogMessage(new byte[32], new byte[100], 0, [name]));
        }

        log.TakeReady(name, 1);
    }

    long heapActive = HeapAfterFullGc() - heapBefore;
    await log.RunMaintenanceAsync();
    await log.RunMaintenanceAsync();
    long heapIdle = HeapAfterFullGc() - heapBefore;
    long rssIdle = Environment.WorkingSet - rssBefore;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{topics:N0} topics x 3 messages, 1 in flight each: managed heap per topic {heapActive / (double)topics:F0} B while active, {heapIdle / (double)topics:F0} B once idle; RSS growth per topic {rssIdle / (double)topics:F0} B"));
    Directory.Delete(dir, recursive: true);
}

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
            $"reopen after a clean shutdown (checkpointed; {reopened.CommitLog.Recovery.Records} records replayed): {recover.Elapsed.TotalMilliseconds:F0} ms"));
    }

    Directory.Delete(dir, recursive: true);
}

