using System.Buffers;
using System.Diagnostics;
using Gateway.Protocol.Frames;
using Xunit.Abstractions;

namespace Gateway.Fuzz.Tests;

/// <summary>
/// Drives over a million seeded random and mutated frames through FrameReader and every decoder.
/// The only exception allowed out of decoding is AmqpProtocolException; anything else, a decoded
/// value that does not survive encode → decode, a segmented buffer that reads differently from a
/// contiguous one, or an input that takes over a second, fails with the input in hex.
/// </summary>
public sealed class CodecFuzzTests
{
    /// <summary>Change to explore new inputs; a failure message names the seed, shard and index to replay.</summary>
    private const int Seed = 0x0091_5EED;

    /// <summary>Fixed, so the inputs do not depend on the machine's core count.</summary>
    private const int Shards = 8;

    private const int FrameInputsPerShard = 125_000;

    /// <summary>Every Nth input also feeds a field table and a property list straight to their decoders.</summary>
    private const int SideInputEvery = 4;

    private static readonly TimeSpan SingleInputBudget = TimeSpan.FromSeconds(1);

    /// <summary>An input still running after this is a hang: fail without waiting for it.</summary>
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan TotalBudget = TimeSpan.FromSeconds(150);

    private readonly ITestOutputHelper _output;

    public CodecFuzzTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_million_random_and_mutated_frames_fail_only_with_AmqpProtocolException()
    {
        var slots = new InputSlot[Shards];
        for (var i = 0; i < Shards; i++)
        {
            slots[i] = new InputSlot();
        }

        var results = new ShardResult[Shards];
        using var cancellation = new CancellationTokenSource();
        var started = Stopwatch.StartNew();
        var run = Task.Factory.StartNew(
            () => Parallel.For(
                0,
                Shards,
                new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                shard => results[shard] = RunShard(shard, slots[shard], cancellation.Token)),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        string? watchdogFailure = null;
        while (await Task.WhenAny(run, Task.Delay(250)) != run)
        {
            if (started.Elapsed > TotalBudget)
            {
                watchdogFailure = $"the run exceeded its {TotalBudget.TotalSeconds} s budget";
            }

            foreach (var (slot, shard) in slots.Select((s, i) => (s, i)))
            {
                if (slot.RunningFor() is { } running && running > HangLimit)
                {
                    watchdogFailure = $"shard {shard} input {slot.Index} has run for {running.TotalSeconds:F1} s (hang?): {FrameMutator.ToHex(slot.Input ?? [])}";
                }
            }

            if (watchdogFailure is not null)
            {
                cancellation.Cancel();
                Assert.Fail(watchdogFailure);
            }
        }

        await run;
        var total = new FuzzStats();
        foreach (var result in results)
        {
            total.Add(result.Stats);
        }

        _output.WriteLine($"seed 0x{Seed:X8}, {Shards} shards, {started.Elapsed.TotalSeconds:F1} s on {Environment.ProcessorCount} cores");
        _output.WriteLine($"{MethodCodecs.ById.Count} method structs, {FrameMutator.SampleFrames.Count} sample frames");
        _output.WriteLine(total.ToString());
        var failure = results.FirstOrDefault(r => r.Failure is not null)?.Failure;
        Assert.True(failure is null, failure);
        Assert.True(total.Inputs >= Shards * (long)FrameInputsPerShard, $"only {total.Inputs} frame inputs ran");
        Assert.True(total.Frames >= 1_000_000, $"only {total.Frames} frames were read");
        // The generators must reach the decoders, not just the frame reader.
        Assert.True(total.MethodsDecoded > 100_000, total.ToString());
        Assert.True(total.HeadersDecoded > 10_000, total.ToString());
        Assert.True(total.TablesDecoded > 10_000, total.ToString());
    }

    private static ShardResult RunShard(int shard, InputSlot slot, CancellationToken cancellation)
    {
        var random = new Random(Seed + shard);
        var stats = new FuzzStats();
        var segmentedStats = new FuzzStats();
        for (var index = 0; index < FrameInputsPerShard && !cancellation.IsCancellationRequested; index++)
        {
            var input = NextFrameInput(random);
            var cuts = SegmentedSequence.RandomCuts(input.Bytes.Length, random);
            byte[]? table = null;
            byte[]? properties = null;
            if (index % SideInputEvery == 0)
            {
                table = NextTableInput(random);
                properties = NextPropertyInput(random);
            }

            slot.Begin(index, input.Bytes);
            var started = Stopwatch.GetTimestamp();
            try
            {
                RunOne(input, cuts, table, properties, stats, segmentedStats);
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (elapsed > SingleInputBudget)
                {
                    // Measure again alone before calling it slow: the machine may just have been busy.
                    started = Stopwatch.GetTimestamp();
                    RunOne(input, cuts, table, properties, new FuzzStats(), new FuzzStats());
                    elapsed = Stopwatch.GetElapsedTime(started);
                    if (elapsed > SingleInputBudget)
                    {
                        return ShardResult.Failed(stats, Describe(shard, index, input, cuts, table, properties, $"took {elapsed.TotalMilliseconds:F0} ms"));
                    }
                }
            }
            catch (Exception e)
            {
                return ShardResult.Failed(stats, Describe(shard, index, input, cuts, table, properties, e.ToString()));
            }
            finally
            {
                slot.End();
            }
        }

        return new ShardResult(stats, null);
    }

    private static void RunOne(FuzzInput input, int[] cuts, byte[]? table, byte[]? properties, FuzzStats stats, FuzzStats segmentedStats)
    {
        stats.Inputs++;
        var contiguous = CodecHarness.RunFrames(new ReadOnlySequence<byte>(input.Bytes), input.FrameMax, checkReencode: true, stats);

        stats.SegmentedInputs++;
        var segmented = CodecHarness.RunFrames(SegmentedSequence.Split(input.Bytes, cuts), input.FrameMax, checkReencode: false, segmentedStats);
        if (segmented != contiguous)
        {
            throw new FuzzInvariantException($"segmented read differs: contiguous \"{contiguous}\", segmented \"{segmented}\"");
        }

        if (input.Kind == "garbage")
        {
            // Garbage is also what a client may send instead of the protocol header.
            var buffer = new ReadOnlySequence<byte>(input.Bytes);
            _ = ProtocolHeader.TryRead(ref buffer);
        }

        if (table is not null)
        {
            CodecHarness.RunTable(table, stats);
        }

        if (properties is not null)
        {
            CodecHarness.RunProperties(properties, stats);
        }
    }

    private static FuzzInput NextFrameInput(Random random)
    {
        var frameMax = random.Next(20) switch
        {
            < 12 => 131072u,
            < 15 => 0u,
            < 18 => 4096u,
            _ => (uint)random.Next(0, 200),
        };
        var samples = FrameMutator.SampleFrames;
        var sample = samples[random.Next(samples.Count)];
        var pick = random.Next(100);
        return pick switch
        {
            < 25 => new FuzzInput("mutated frame", FrameMutator.Mutate(sample, random), frameMax),
            < 50 => new FuzzInput("mutated payload", FrameMutator.MutatePayload(sample, random), frameMax),
            < 65 => new FuzzInput("random method", FrameMutator.RandomMethodFrame(random), frameMax),
            < 75 => new FuzzInput("random content header", RandomContent(random), frameMax),
            < 85 => new FuzzInput("mutated stream", Concat(FrameMutator.MutateSequence(RandomStream(random), random)), frameMax),
            < 92 => new FuzzInput("garbage", FrameMutator.RandomGarbage(random), frameMax),
            < 96 => new FuzzInput("valid frames", Concat(RandomStream(random)), frameMax),
            _ => new FuzzInput(
                "random payload",
                FrameMutator.Frame((byte)(random.Next(4) == 0 ? 8 : random.Next(1, 4)), (ushort)random.Next(3), FrameMutator.RandomBytes(random, 0, 64)),
                frameMax),
        };
    }

    private static byte[] RandomContent(Random random)
    {
        var header = FrameMutator.RandomContentHeaderFrame(random);
        return random.Next(2) == 0
            ? header
            : [.. header, .. FrameMutator.Frame(3, header[2], FrameMutator.RandomBytes(random, 0, 32))];
    }

    private static List<byte[]> RandomStream(Random random)
    {
        if (random.Next(4) == 0)
        {
            return [.. FrameMutator.HandshakeFrames().Skip(1)]; // frames only; the protocol header is not a frame
        }

        var samples = FrameMutator.SampleFrames;
        var count = random.Next(2, 7);
        var start = random.Next(samples.Count);
        return [.. Enumerable.Range(0, count).Select(i => samples[(start + i) % samples.Count])];
    }

    private static byte[] NextTableInput(Random random)
    {
        var tables = FrameMutator.SampleTables;
        return random.Next(10) switch
        {
            < 5 => FrameMutator.MutateBytes(tables[random.Next(tables.Count)], random),
            < 9 => FrameMutator.RandomTable(random, 0),
            _ => FrameMutator.RandomBytes(random, 0, 40),
        };
    }

    private static byte[] NextPropertyInput(Random random)
    {
        var samples = FrameMutator.SamplePropertyBytes;
        return random.Next(2) == 0
            ? FrameMutator.MutateBytes(samples[random.Next(samples.Count)], random)
            : FrameMutator.RandomBytes(random, 0, 40);
    }

    private static byte[] Concat(IEnumerable<byte[]> frames) => [.. frames.SelectMany(f => f)];

    private static string Describe(int shard, int index, FuzzInput input, int[] cuts, byte[]? table, byte[]? properties, string what) =>
        $"seed 0x{Seed:X8} shard {shard} input {index} ({input.Kind}, frame_max {input.FrameMax}, cuts [{string.Join(',', cuts)}]): {what}\n" +
        $"input hex: {FrameMutator.ToHex(input.Bytes)}\n" +
        (table is null ? string.Empty : $"table hex: {FrameMutator.ToHex(table)}\n") +
        (properties is null ? string.Empty : $"properties hex: {FrameMutator.ToHex(properties)}\n");

    private sealed record FuzzInput(string Kind, byte[] Bytes, uint FrameMax);

    private sealed record ShardResult(FuzzStats Stats, string? Failure)
    {
        public static ShardResult Failed(FuzzStats stats, string failure) => new(stats, failure);
    }

    /// <summary>What a shard is working on, for the watchdog.</summary>
    private sealed class InputSlot
    {
        private long _startedAt;

        public int Index { get; private set; }

        public byte[]? Input { get; private set; }

        public void Begin(int index, byte[] input)
        {
            Index = index;
            Input = input;
            Volatile.Write(ref _startedAt, Stopwatch.GetTimestamp());
        }

        public void End() => Volatile.Write(ref _startedAt, 0);

        public TimeSpan? RunningFor()
        {
            var startedAt = Volatile.Read(ref _startedAt);
            return startedAt == 0 ? null : Stopwatch.GetElapsedTime(startedAt);
        }
    }
}
