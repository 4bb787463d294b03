using Gateway.Broker.Delivery;

namespace Gateway.Broker.Topology;

/// <summary>A queue this gateway serves, as <see cref="TopologyService.ServedQueues"/> lists it.</summary>
/// <param name="Topics">The log topics holding its messages: one, or one per priority level.</param>
public sealed record ServedQueue(string VirtualHost, string Name, IReadOnlyList<string> Topics, DispatchQueue Dispatch);
