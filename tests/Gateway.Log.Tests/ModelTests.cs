using CsCheck;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Random sequences of create / delete / append (fan-out) / read / take / settle / requeue / purge /
/// maintenance / restart against the embedded log and a plain in-memory model; after every step the
/// two must agree on topics, offsets, contents, what is ready, in flight and settled, and the order
/// and redelivered flags of deliveries. Restarts are clean (state journal flushed), so settled state
/// must come back exactly and every in-flight message must be ready again.
/// </summary>
public sealed class ModelTests
{
    private static readonly string[] Names = ["a", "b", "c", "d"];

    private enum Kind { Create, Delete, Append, Read, Take, Settle, Requeue, Purge, Maintain, Restart }

    private readonly record struct Op(Kind Kind, int Topic, int Mask, int Size, int From);

    /// <summary>One topic in the model: its messages and its queue state.</summary>
    private sealed class ModelTopic
    {
        public List<LogMessage> Messages { get; } = [];

        public SortedSet<long> Settled { get; } = [];

        public SortedSet<long> InFlight { get; } = [];

        public SortedSet<long> Requeued { get; } = [];

        public HashSet<long> Delivered { get; } = [];

        public long Cursor { get; set; }

        public long Start { get; set; }

        public long Watermark
        {
            get
            {
                long w = 0;
                while (Settled.Contains(w))
                {
                    w++;
                }

                return w;
            }
        }

        public long Ready => Requeued.Count + Enumerable.Range((int)Cursor, Math.Max(0, Messages.Count - (int)Cursor)).Count(o => !Settled.Contains(o));

        public long? Take()
        {
            if (Requeued.Count > 0)
            {
                long r = Requeued.Min;
                Requeued.Remove(r);
                InFlight.Add(r);
                return r;
            }

            while (Cursor < Messages.Count && Settled.Contains(Cursor))
            {
                Cursor++;
            }

            if (Cursor >= Messages.Count)
            {
                return null;
            }

            InFlight.Add(Cursor);
            return Cursor++;
        }

        public void Restart()
        {
            InFlight.Clear();
            Requeued.Clear();
            Cursor = Watermark;
        }
    }

    [Fact]
    public async Task Engine_matches_the_model()
    {
        Gen<Op> op = Gen.Select(
            Gen.Frequency(
                (3, Gen.Const(Kind.Create)), (1, Gen.Const(Kind.Delete)), (8, Gen.Const(Kind.Append)), (3, Gen.Const(Kind.Read)),
                (4, Gen.Const(Kind.Take)), (4, Gen.Const(Kind.Settle)), (2, Gen.Const(Kind.Requeue)), (1, Gen.Const(Kind.Purge)),
                (1, Gen.Const(Kind.Maintain)), (1, Gen.Const(Kind.Restart))),
            Gen.Int[0, 3],
            Gen.Int[1, 15],
            Gen.Int[0, 3000],
            Gen.Int[0, 12],
            (k, t, m, s, f) => new Op(k, t, m, s, f));

        await op.Array[1, 80].SampleAsync(RunAsync, iter: 150, threads: 1);
    }

    private static EmbeddedMessageLog Open(string directory) => EmbeddedMessageLog.Open(
        new CommitLogOptions { Directory = directory, SegmentSize = 8 * 1024, FsyncPolicy = FsyncPolicy.None },
        new MessageLogOptions { MaintenanceInterval = null, IndexCacheBytes = 0 });

    private static async Task RunAsync(Op[] ops)
    {
        using var dir = new TempDir();
        var model = new Dictionary<string, ModelTopic>();
        EmbeddedMessageLog log = Open(dir.Path);
        try
        {
            int seed = 0;
            foreach (Op o in ops)
            {
                string topic = Names[o.Topic];
                model.TryGetValue(topic, out ModelTopic? m);
                switch (o.Kind)
                {
                    case Kind.Create:
                        Assert.Equal(m is null, await log.CreateTopicAsync(topic));
                        model.TryAdd(topic, new ModelTopic());
                        break;
                    case Kind.Delete:
                        Assert.Equal(model.Remove(topic), await log.DeleteTopicAsync(topic));
                        break;
                    case Kind.Append:
                        {
                            string[] targets = [.. Names.Where((n, i) => (o.Mask & (1 << i)) != 0 && model.ContainsKey(n))];
                            if (targets.Length == 0)
                            {
                                break;
                            }

                            LogMessage message = CommitLogTests.Message(++seed, o.Size, targets);
                            AppendResult result = await log.AppendAsync(message);
                            Assert.Equal(targets.Select(t => (long)model[t].Messages.Count), result.TopicOffsets);
                            foreach (string t in targets)
                            {
                                model[t].Messages.Add(message);
                            }

                            break;
                        }

                    case Kind.Read when m is not null:
                        {
                            IReadOnlyList<StoredMessage> got = log.Read(topic, o.From, 5);
                            long from = Math.Max(o.From, m.Start);
                            List<LogMessage> want = [.. m.Messages.Skip((int)from).Take(5)];
                            Assert.Equal(want.Count, got.Count);
                            for (int i = 0; i < want.Count; i++)
                            {
                                Assert.Equal(from + i, got[i].Offset);
                                Assert.Equal(want[i].Body.ToArray(), got[i].Body.ToArray());
                                Assert.Equal(want[i].Properties.ToArray(), got[i].Properties.ToArray());
                            }

                            break;
                        }

                    case Kind.Take when m is not null:
                        {
                            IReadOnlyList<TakenMessage> taken = log.TakeReady(topic, o.Mask % 4);
                            var expected = new List<long>();
                            var redelivered = new List<bool>();
                            for (int i = 0; i < o.Mask % 4 && m.Take() is long next; i++)
                            {
                                expected.Add(next);
                                redelivered.Add(!m.Delivered.Add(next));
                            }

                            Assert.Equal(expected, taken.Select(t => t.Message.Offset));
                            Assert.Equal(redelivered, taken.Select(t => t.Redelivered));
                            for (int i = 0; i < taken.Count; i++)
                            {
                                Assert.Equal(m.Messages[(int)expected[i]].Body.ToArray(), taken[i].Message.Body.ToArray());
                            }

                            break;
                        }

                    case Kind.Settle or Kind.Requeue when m is not null:
                        {
                            // Mostly an in-flight offset, sometimes an arbitrary one (must be refused unless in flight).
                            long offset = m.InFlight.Count > 0 && o.From % 4 != 0 ? m.InFlight.ElementAt(o.From % m.InFlight.Count) : o.From;
                            bool inFlight = m.InFlight.Remove(offset);
                            if (inFlight)
                            {
                                (o.Kind == Kind.Settle ? m.Settled : m.Requeued).Add(offset);
                            }

                            Assert.Equal(inFlight, o.Kind == Kind.Settle ? log.Settle(topic, offset) : log.Requeue(topic, offset));
                            break;
                        }

                    case Kind.Purge when m is not null:
                        {
                            long purged = m.Ready;
                            foreach (long r in m.Requeued)
                            {
                                m.Settled.Add(r);
                            }

                            m.Requeued.Clear();
                            for (long offset = m.Cursor; offset < m.Messages.Count; offset++)
                            {
                                m.Settled.Add(offset);
                            }

                            m.Cursor = m.Messages.Count;
                            Assert.Equal(purged, log.Purge(topic));
                            break;
                        }

                    case Kind.Maintain:
                        await log.RunMaintenanceAsync();
                        foreach (ModelTopic t in model.Values)
                        {
                            t.Start = Math.Min(t.Watermark, t.Messages.Count);   // default retention: nothing settled is kept
                        }

                        break;
                    case Kind.Restart:
                        await log.DisposeAsync();
                        log = Open(dir.Path);
                        foreach (ModelTopic t in model.Values)
                        {
                            t.Restart();
                            t.Start = Math.Min(t.Watermark, t.Messages.Count);   // closing ran a maintenance pass
                        }

                        break;
                }

                foreach (string n in Names)
                {
                    Assert.Equal(model.ContainsKey(n), log.TopicExists(n));
                    if (model.TryGetValue(n, out ModelTopic? t))
                    {
                        TopicStats stats = log.GetStats(n);
                        Assert.Equal(t.Messages.Count, stats.EndOffset);
                        Assert.Equal(t.Ready, stats.Ready);
                        Assert.Equal(t.InFlight.Count, stats.InFlight);
                        Assert.Equal(Math.Min(t.Watermark, t.Messages.Count), stats.Watermark);
                        Assert.Equal(t.Start, stats.StartOffset);
                    }
                }
            }
        }
        finally
        {
            await log.DisposeAsync();
        }
    }
}
