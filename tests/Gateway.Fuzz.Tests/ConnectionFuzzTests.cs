using System.Diagnostics;
using System.IO.Pipelines;
using Gateway.Server.Connections;
using Gateway.Server.Hosting;
using Gateway.Server.Metrics;
using Gateway.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using TestSupport;

namespace Gateway.Fuzz.Tests;

/// <summary>
/// Drives over a million valid, mutated and random frames through the real connection and channel
/// state machines (in-process pipes instead of sockets, so it runs in seconds) and checks that no
/// input escapes as an unexpected exception (event 1010), hangs a connection, or leaks a
/// connection or channel count.
/// </summary>
public sealed class ConnectionFuzzTests
{
    private const int TargetFrames = 1_000_000;
    private static readonly TimeSpan SessionDeadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_million_fuzzed_frames_never_escape_hang_or_leak()
    {
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Warning));
        var logger = loggerFactory.CreateLogger<ConnectionFuzzTests>();
        var options = new GatewayOptions();
        var credentials = new StaticCredentialStore();
        using var metrics = new GatewayMetrics();
        var samples = FrameMutator.SampleFrames;
        var fed = 0L;
        var sessions = 0;
        var stopwatch = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Sessions(), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (seed, _) =>
        {
            var random = new Random(seed);
            var frames = BuildSession(random, samples);
            Interlocked.Add(ref fed, frames.Count);
            Interlocked.Increment(ref sessions);
            await RunSessionAsync(frames, random, options, credentials, metrics, logger, seed);
        });

        Assert.True(Interlocked.Read(ref fed) >= TargetFrames);
        Assert.False(logs.Contains(1010), "an input escaped as an unexpected exception: " +
            string.Join(" | ", logs.Entries.Where(e => e.EventId == 1010).Take(3).Select(e => e.Exception?.ToString())));
        Assert.Equal(0, metrics.OpenConnections);
        Assert.Equal(0, metrics.OpenChannels);
        Console.WriteLine($"connection fuzz: {fed} frames in {sessions} sessions, {stopwatch.Elapsed.TotalSeconds:F1} s");

        IEnumerable<int> Sessions()
        {
            for (var seed = 1; Interlocked.Read(ref fed) < TargetFrames; seed++)
            {
                yield return seed;
            }
        }
    }

    private static async Task RunSessionAsync(
        List<byte[]> frames,
        Random random,
        GatewayOptions options,
        ICredentialStore credentials,
        GatewayMetrics metrics,
        ILogger logger,
        int seed)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var transport = new DuplexPipe(toServer.Reader, toClient.Writer);
        var application = new DuplexPipe(toClient.Reader, toServer.Writer);
        var context = new DefaultConnectionContext($"fuzz-{seed}", transport, application);
        var connection = new AmqpConnection(context, options, credentials, metrics, logger, TimeProvider.System);
        var run = connection.RunAsync();
        var drain = DrainAsync(toClient.Reader);

        // Write the session in randomly sized chunks, so frames also arrive split across reads.
        var bytes = frames.SelectMany(f => f).ToArray();
        var offset = 0;
        while (offset < bytes.Length && !run.IsCompleted)
        {
            var chunk = Math.Min(bytes.Length - offset, random.Next(1, 512));
            await toServer.Writer.WriteAsync(bytes.AsMemory(offset, chunk));
            offset += chunk;
        }

        await toServer.Writer.CompleteAsync();
        var finished = await Task.WhenAny(run, Task.Delay(SessionDeadline));
        Assert.True(finished == run, $"session {seed} hung after its input ended: {Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 256)))}");
        await run;
        await drain;
    }

    private static async Task DrainAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync();
                return;
            }
        }
    }

    private static List<byte[]> BuildSession(Random random, IReadOnlyList<byte[]> samples)
    {
        // Most sessions complete the handshake so the fuzz reaches channels; some fuzz the handshake.
        var fuzzHandshake = random.NextDouble() < 0.2;
        var frames = FrameMutator.HandshakeFrames()
            .Select(frame => fuzzHandshake && random.NextDouble() < 0.3 ? FrameMutator.Mutate(frame, random) : frame)
            .ToList();
        var count = random.Next(1, 40);
        for (var i = 0; i < count; i++)
        {
            var sample = WithChannel(samples[random.Next(samples.Count)], (ushort)random.Next(0, 4));
            frames.Add(random.NextDouble() switch
            {
                < 0.55 => sample,
                < 0.90 => FrameMutator.Mutate(sample, random),
                _ => FrameMutator.RandomGarbage(random),
            });
        }

        return frames;
    }

    private static byte[] WithChannel(byte[] frame, ushort channel)
    {
        var copy = (byte[])frame.Clone();
        copy[1] = (byte)(channel >> 8);
        copy[2] = (byte)channel;
        return copy;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
