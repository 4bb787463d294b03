using Gateway.Log;

namespace Gateway.Broker.Delivery;

/// <summary>A queue's messages in the log: the consumption state of the queue's topic (docs/log-engine.md).</summary>
public sealed class MessageLogQueueSource : IQueueSource
{
    private readonly IMessageLog _log;

    public MessageLogQueueSource(IMessageLog log, string topic)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(topic);
        _log = log;
        Topic = topic;
    }

    public string Topic { get; }

    public long Ready => _log.ReadyCount(Topic);

    public IReadOnlyList<TakenMessage> Take(int maxCount) => _log.TakeReady(Topic, maxCount);

    public bool Settle(long offset) => _log.Settle(Topic, offset);

    public bool Requeue(long offset) => _log.Requeue(Topic, offset);
}
