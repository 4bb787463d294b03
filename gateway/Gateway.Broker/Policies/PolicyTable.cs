using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using MetaService.Contracts;

namespace Gateway.Broker.Policies;

/// <summary>
/// The policies of every vhost, and which one applies to a queue, as rabbit_policy decides: among the
/// policies whose pattern matches the queue's name and whose apply-to covers it, the one with the highest
/// priority (ties, which RabbitMQ leaves unordered, go to the name that sorts first, so every gateway picks
/// the same). Fed from the metadata snapshot and change feed.
/// </summary>
public sealed class PolicyTable
{
    private readonly ConcurrentDictionary<(string VirtualHost, string Name), CompiledPolicy> _policies = new();

    /// <summary>Replaces every policy (a snapshot).</summary>
    public void Load(IEnumerable<PolicyRecord> policies)
    {
        _policies.Clear();
        foreach (PolicyRecord policy in policies)
        {
            Put(policy);
        }
    }

    public void Put(PolicyRecord policy) =>
        _policies[(policy.VirtualHost, policy.Name)] = new CompiledPolicy(policy, new Regex(policy.Pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));

    public void Remove(string virtualHost, string name) => _policies.TryRemove((virtualHost, name), out _);

    /// <summary>The policy in force for queue <paramref name="queue"/> of <paramref name="virtualHost"/>, or null.</summary>
    /// <param name="quorum">Its type: apply-to <c>classic_queues</c> and <c>quorum_queues</c> select by it.</param>
    public PolicyRecord? ForQueue(string virtualHost, string queue, bool quorum)
    {
        PolicyRecord? best = null;
        foreach (CompiledPolicy candidate in _policies.Values)
        {
            PolicyRecord policy = candidate.Record;
            if (policy.VirtualHost != virtualHost || !AppliesToQueue(policy.ApplyTo, quorum) || !candidate.Matches(queue))
            {
                continue;
            }

            if (best is null || policy.Priority > best.Priority
                || (policy.Priority == best.Priority && string.CompareOrdinal(policy.Name, best.Name) < 0))
            {
                best = policy;
            }
        }

        return best;
    }

    private static bool AppliesToQueue(string applyTo, bool quorum) => applyTo switch
    {
        "all" or "queues" => true,
        "classic_queues" => !quorum,
        "quorum_queues" => quorum,
        _ => false,   // exchanges, streams
    };

    private sealed record CompiledPolicy(PolicyRecord Record, Regex Pattern)
    {
        public bool Matches(string name)
        {
            try
            {
                return Pattern.IsMatch(name);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;   // a pathological pattern must not stall a declare; it matches nothing
            }
        }
    }
}
