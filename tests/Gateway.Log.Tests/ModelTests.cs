using CsCheck;
using Gateway.Log.Commit;

namespace Gateway.Log.Tests;

/// <summary>
/// Random sequences of create / delete / append (fan-out) / read / restart against the embedded
/// log and a plain in-memory model; after every step the two must agree. (Settle and requeue join
/// once consumption state exists.)
/// </summary>
public sealed class ModelTests
{
    private static readonly string[] Names = ["a", "b", "c", "d"];

    private enum Kind { Create, Delete, Append, Read, Restart }

    private readonly record struct Op(Kind Kind, int Topic, int Mask, int Size, int From);

    [Fact]
    public async Task Engine_matches_the_model()
    {
        Gen<Op> op = Gen.Select(
            Gen.Frequency((3, Gen.Const(Kind.Create)), (1, Gen.Const(Kind.Delete)), (8, Gen.Const(Kind.Append)), (3, Gen.Const(Kind.Read)), (1, Gen.Const(Kind.Restart))),
            Gen.Int[0, 3],
            Gen.Int[1, 15],
            Gen.Int[0, 3000],
            Gen.Int[0, 12],
            (k, t, m, s, f) => new Op(k, t, m, s, f));

        await op.Array[1, 60].SampleAsync(RunAsync, iter: 40, threads: 1);
    }

    private static async Task RunAsync(Op[] ops)
    {
        using var dir = new TempDir();
        var options = new CommitLogOptions { Directory = dir.Path, SegmentSize = 8 * 1024, FsyncPolicy = FsyncPolicy.None };
        var model = new Dictionary<string, List<LogMessage>>();
        EmbeddedMessageLog log = EmbeddedMessageLog.Open(options);
        try
        {
            int seed = 0;
            foreach (Op o in ops)
            {
                string topic = Names[o.Topic];
                switch (o.Kind)
                {
                    case Kind.Create:
                        Assert.Equal(!model.ContainsKey(topic), await log.CreateTopicAsync(topic));
                        model.TryAdd(topic, []);
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

                            LogMessage m = CommitLogTests.Message(++seed, o.Size, targets);
                            AppendResult result = await log.AppendAsync(m);
                            Assert.Equal(targets.Select(t => (long)model[t].Count), result.TopicOffsets);
                            foreach (string t in targets)
                            {
                                model[t].Add(m);
                            }

                            break;
                        }

                    case Kind.Read:
                        if (model.TryGetValue(topic, out List<LogMessage>? expected))
                        {
                            IReadOnlyList<StoredMessage> got = log.Read(topic, o.From, 5);
                            List<LogMessage> want = [.. expected.Skip(o.From).Take(5)];
                            Assert.Equal(want.Count, got.Count);
                            for (int i = 0; i < want.Count; i++)
                            {
                                Assert.Equal(o.From + i, got[i].Offset);
                                Assert.Equal(want[i].Body.ToArray(), got[i].Body.ToArray());
                                Assert.Equal(want[i].Properties.ToArray(), got[i].Properties.ToArray());
                            }
                        }

                        break;
                    default:
                        await log.DisposeAsync();
                        log = EmbeddedMessageLog.Open(options);
                        break;
                }

                foreach (string n in Names)
                {
                    Assert.Equal(model.ContainsKey(n), log.TopicExists(n));
                    if (model.TryGetValue(n, out List<LogMessage>? list))
                    {
                        Assert.Equal(list.Count, log.EndOffset(n));
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
