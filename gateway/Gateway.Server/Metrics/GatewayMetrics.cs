using System.Diagnostics.Metrics;

namespace Gateway.Server.Metrics;

/// <summary>
/// Connection-level counters. Exposed through a System.Diagnostics.Metrics meter ("Gateway.Amqp")
/// so the Prometheus exporter can publish them later, and as plain properties for tests.
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "Gateway.Amqp";

    private readonly Meter _meter;
    private long _openConnections;
    private long _acceptedConnections;
    private long _openChannels;
    private long _bytesReceived;
    private long _bytesSent;

    public GatewayMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableUpDownCounter("amqp.connections", () => OpenConnections, description: "Open AMQP connections");
        _meter.CreateObservableCounter("amqp.connections.accepted", () => AcceptedConnections, description: "AMQP connections accepted since start");
        _meter.CreateObservableUpDownCounter("amqp.channels", () => OpenChannels, description: "Open AMQP channels");
        _meter.CreateObservableCounter("amqp.bytes.received", () => BytesReceived, unit: "By");
        _meter.CreateObservableCounter("amqp.bytes.sent", () => BytesSent, unit: "By");
    }

    public long OpenConnections => Interlocked.Read(ref _openConnections);

    public long AcceptedConnections => Interlocked.Read(ref _acceptedConnections);

    public long OpenChannels => Interlocked.Read(ref _openChannels);

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public long BytesSent => Interlocked.Read(ref _bytesSent);

    internal void ConnectionOpened()
    {
        Interlocked.Increment(ref _openConnections);
        Interlocked.Increment(ref _acceptedConnections);
    }

    internal void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    internal void ChannelsChanged(long delta) => Interlocked.Add(ref _openChannels, delta);

    internal void Received(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    internal void Sent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    public void Dispose() => _meter.Dispose();
}
