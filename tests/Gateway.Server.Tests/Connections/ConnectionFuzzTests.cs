using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Gateway.Protocol.Frames;
using Gateway.Protocol.Methods.Access;
using Gateway.Protocol.Methods.Basic;
using Gateway.Protocol.Methods.Channel;
using Gateway.Protocol.Methods.Confirm;
using Gateway.Protocol.Methods.Connection;
using Gateway.Protocol.Methods.Exchange;
using Gateway.Protocol.Methods.Queue;
using Gateway.Protocol.Methods.Tx;
using Gateway.Protocol.Types;
using Gateway.Server.Connections;
using Gateway.Server.Hosting;
using Gateway.Server.Metrics;
using Gateway.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using TestSupport;

namespace Gateway.Server.Tests.Connections;

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
        var samples = SampleFrames();
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

    private static List<byte[]> BuildSession(Random random, byte[][] samples)
    {
        var frames = new List<byte[]>();
        var handshake = Handshake();
        // Most sessions complete the handshake so the fuzz reaches channels; some fuzz the handshake.
        var fuzzHandshake = random.NextDouble() < 0.2;
        foreach (var frame in handshake)
        {
            frames.Add(fuzzHandshake && random.NextDouble() < 0.3 ? Mutate(frame, random) : frame);
        }

        var count = random.Next(1, 40);
        for (var i = 0; i < count; i++)
        {
            var pick = random.NextDouble();
            var sample = samples[random.Next(samples.Length)];
            frames.Add(pick switch
            {
                < 0.55 => WithChannel(sample, (ushort)random.Next(0, 4)),
                < 0.90 => Mutate(WithChannel(sample, (ushort)random.Next(0, 4)), random),
                _ => RandomBytes(random, random.Next(1, 64)),
            });
        }

        return frames;
    }

    private static byte[][] Handshake() =>
    [
        [.. Gateway.Protocol.Spec.AmqpConstants.ProtocolHeader],
        Encode(0, new ConnectionStartOk(ScriptedAmqpClient.ClientProperties(), "PLAIN", ScriptedAmqpClient.PlainResponse("guest", "guest"), "en_US")),
        Encode(0, new ConnectionTuneOk(2047, 131072, 0)),
        Encode(0, new ConnectionOpen("/")),
        Encode(1, new ChannelOpen()),
        Encode(2, new ChannelOpen()),
    ];

    private static byte[][] SampleFrames()
    {
        var table = new FieldTable { { "x-max-length", 10 }, { "x-dead-letter-exchange", "dlx" } };
        var properties = new BasicProperties { ContentType = "text/plain", DeliveryMode = 2, Headers = table }.ToBytes();
        byte[] contentHeader = [0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, .. properties];
        return
        [
            Encode(1, new ChannelOpen()),
            Encode(1, new ChannelClose(200, "ok", 0, 0)),
            Encode(1, new ChannelCloseOk()),
            Encode(1, new ChannelFlow(true)),
            Encode(1, new ChannelFlow(false)),
            Encode(1, new ChannelFlowOk(true)),
            Encode(1, new AccessRequest("/data", false, false, true, true, true)),
            Encode(0, new ConnectionClose(200, "bye", 0, 0)),
            Encode(0, new ConnectionCloseOk()),
            Encode(0, new ConnectionUpdateSecret(System.Text.Encoding.UTF8.GetBytes("guest"), "refresh")),
            Encode(0, new ConnectionTuneOk(2047, 131072, 60)),
            Encode(1, new QueueDeclare("q", durable: true, arguments: table)),
            Encode(1, new ExchangeDeclare("x", "topic", false, true, false, false, false, table)),
            Encode(1, new BasicQos(0, 10, false)),
            Encode(1, new BasicConsume("q", "", false, false, false, false, null)),
            Encode(1, new BasicAck(1, false)),
            Encode(1, new BasicPublish("", "q", false, false)),
            Encode(1, new BasicDeliver("ctag", 1, false, "", "q")),
            Encode(1, new ConfirmSelect(false)),
            Encode(1, new TxSelect()),
            FrameOf(FrameType.Header, 1, contentHeader),
            FrameOf(FrameType.Body, 1, "hello"u8.ToArray()),
            FrameOf(FrameType.Heartbeat, 0, []),
            FrameOf(FrameType.Heartbeat, 1, []),
        ];
    }

    private static byte[] Encode<T>(ushort channel, T method)
        where T : struct, Gateway.Protocol.Methods.IAmqpMethod<T> => ScriptedAmqpClient.Encode(channel, method);

    private static byte[] FrameOf(FrameType type, ushort channel, byte[] payload) => ScriptedAmqpClient.RawFrame((byte)type, channel, payload);

    private static byte[] WithChannel(byte[] frame, ushort channel)
    {
        var copy = (byte[])frame.Clone();
        if (copy.Length >= 3)
        {
            copy[1] = (byte)(channel >> 8);
            copy[2] = (byte)channel;
        }

        return copy;
    }

    private static byte[] Mutate(byte[] frame, Random random)
    {
        var bytes = (byte[])frame.Clone();
        switch (random.Next(6))
        {
            case 0: // flip a few bits anywhere (type, channel, size, payload, frame end)
                for (var i = random.Next(1, 4); i > 0 && bytes.Length > 0; i--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1: // truncate
                return bytes[..random.Next(0, bytes.Length)];
            case 2: // grow the payload without fixing the size field
                return [.. bytes[..^1], .. RandomBytes(random, random.Next(1, 16)), bytes[^1]];
            case 3: // lie about the size
                if (bytes.Length >= 7)
                {
                    bytes[3 + random.Next(4)] = (byte)random.Next(256);
                }

                return bytes;
            case 4: // wrong frame end
                bytes[^1] = (byte)random.Next(256);
                return bytes;
            default: // scramble the method arguments
                for (var i = 11; i < bytes.Length - 1; i++)
                {
                    if (random.NextDouble() < 0.3)
                    {
                        bytes[i] = (byte)random.Next(256);
                    }
                }

                return bytes;
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
