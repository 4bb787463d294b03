using System.Buffers.Binary;
using System.Text;
using Gateway.Log.Consumption;

namespace Gateway.Log.Checkpoint;

/// <summary>One topic as a checkpoint records it.</summary>
internal sealed record TopicCheckpoint(
    long Id,
    string Name,
    long Count,
    long Start,
    long RetainedBytes,
    long LastTimestamp,
    TopicRetention Retention,
    ConsumptionSnapshot Consumption);

/// <summary>
/// Everything recovery needs besides the commit-log records at or after <see cref="ReplayFrom"/>:
/// the topic set with each topic's index extent (its chunk files hold entries below Count, fsynced),
/// retention, and consumption state as of journal generation <see cref="JournalGeneration"/>.
/// </summary>
internal sealed record CheckpointData(long ReplayFrom, long JournalGeneration, IReadOnlyList<TopicCheckpoint> Topics);

/// <summary>
/// The checkpoint file: written to a temporary name, fsynced, renamed over the old one and the
/// directory fsynced, so a crash leaves either the old or the new checkpoint, never half of one.
/// A CRC32C over the whole content rejects a damaged file instead of trusting it.
/// </summary>
internal static class CheckpointFile
{
    private const string FileName = "checkpoint";
    private const ulong Magic = 0x31_50_43_47_4F_4C_57_47;   // "GWLOGCP1"
    private const int DiscardUnsettledFlag = 1;
    private const int KeepSettledFlag = 2;

    public static int Flags(TopicRetention retention) =>
        (retention.DiscardUnsettled ? DiscardUnsettledFlag : 0) | (retention.KeepSettled ? KeepSettledFlag : 0);

    /// <summary>A retention from its stored form (journal record or checkpoint): −1 means no limit on that axis.</summary>
    public static TopicRetention FromJournal(long maxAgeMs, long maxBytes, long flags) => new(
        KeepSettled: (flags & KeepSettledFlag) != 0,
        MaxAge: maxAgeMs >= 0 ? TimeSpan.FromMilliseconds(maxAgeMs) : null,
        MaxBytes: maxBytes >= 0 ? maxBytes : null,
        DiscardUnsettled: (flags & DiscardUnsettledFlag) != 0);

    public static CheckpointData? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 12 || BinaryPrimitives.ReadUInt64LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)) != Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)))
        {
            throw new MessageLogCorruptionException($"The checkpoint file '{path}' is damaged; move it away to rebuild the indexes from the commit log.");
        }

        var reader = new Reader(bytes.AsSpan(8, bytes.Length - 12));
        long replayFrom = reader.Long();
        long generation = reader.Long();
        int topicCount = reader.Int();
        var topics = new List<TopicCheckpoint>(topicCount);
        for (int i = 0; i < topicCount; i++)
        {
            long id = reader.Long();
            string name = reader.String();
            long count = reader.Long(), start = reader.Long(), bytesRetained = reader.Long(), lastTimestamp = reader.Long();
            long maxAge = reader.Long(), maxBytes = reader.Long();
            TopicRetention retention = FromJournal(maxAge, maxBytes, reader.Int());
            long watermark = reader.Long(), cursor = reader.Long();
            int ranges = reader.Int();
            var settled = new (long, long)[ranges];
            for (int r = 0; r < ranges; r++)
            {
                settled[r] = (reader.Long(), reader.Long());
            }

            topics.Add(new TopicCheckpoint(id, name, count, start, bytesRetained, lastTimestamp, retention, new ConsumptionSnapshot(watermark, cursor, settled)));
        }

        return new CheckpointData(replayFrom, generation, topics);
    }

    /// <summary>Atomically replaces the checkpoint. <paramref name="syncDirectory"/> makes the rename durable.</summary>
    public static void Write(string directory, CheckpointData data, Action<string> syncDirectory)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(data.ReplayFrom);
            writer.Write(data.JournalGeneration);
            writer.Write(data.Topics.Count);
            foreach (TopicCheckpoint topic in data.Topics)
            {
                writer.Write(topic.Id);
                byte[] name = Encoding.UTF8.GetBytes(topic.Name);
                writer.Write(name.Length);
                writer.Write(name);
                writer.Write(topic.Count);
                writer.Write(topic.Start);
                writer.Write(topic.RetainedBytes);
                writer.Write(topic.LastTimestamp);
                writer.Write(topic.Retention.MaxAge is { } age ? (long)age.TotalMilliseconds : -1);
                writer.Write(topic.Retention.MaxBytes ?? -1);
                writer.Write(Flags(topic.Retention));
                writer.Write(topic.Consumption.Watermark);
                writer.Write(topic.Consumption.Cursor);
                writer.Write(topic.Consumption.Settled.Count);
                foreach ((long start, long end) in topic.Consumption.Settled)
                {
                    writer.Write(start);
                    writer.Write(end);
                }
            }
        }

        byte[] content = stream.ToArray();
        byte[] file = new byte[content.Length + 4];
        content.CopyTo(file, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(content.Length), Crc32C.Compute(content));

        string temporary = Path.Combine(directory, FileName + ".tmp");
        using (var handle = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write))
        {
            RandomAccess.Write(handle, file, 0);
            RandomAccess.FlushToDisk(handle);
        }

        File.Move(temporary, Path.Combine(directory, FileName), overwrite: true);
        syncDirectory(directory);
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public long Long()
        {
            long value = BinaryPrimitives.ReadInt64LittleEndian(_data);
            _data = _data[8..];
            return value;
        }

        public int Int()
        {
            int value = BinaryPrimitives.ReadInt32LittleEndian(_data);
            _data = _data[4..];
            return value;
        }

        public string String()
        {
            int length = Int();
            string value = Encoding.UTF8.GetString(_data[..length]);
            _data = _data[length..];
            return value;
        }
    }
}
