namespace Controller.Contracts;

/// <summary>
/// The controller's HTTP routes. Every <c>/api</c> route needs <c>Authorization: Bearer &lt;token&gt;</c>;
/// <c>/metrics</c> and <c>/healthz</c> do not. Virtual hosts and queue names travel in bodies or query
/// strings, never in path segments: a vhost is often "/", which routing would not keep intact.
/// A standby instance answers every <c>/api</c> route with 503 and a <see cref="StandbyProblem"/> naming
/// the leader, so callers given several controller URLs move on to the active one.
/// </summary>
public static class ControllerRoutes
{
    /// <summary>POST <see cref="GatewayReport"/>: registers the gateway on first use, then every second as its heartbeat. Answers <see cref="HeartbeatReply"/>.</summary>
    public const string Heartbeat = "/api/gateways/heartbeat";

    /// <summary>
    /// GET <c>?node=ID&amp;etag=E&amp;waitMs=N</c>: the node's <see cref="ControlState"/>. Answers at once when
    /// its ETag differs from <c>etag</c> (or none was given), else holds the request up to <c>waitMs</c>
    /// (at most 30 s) and answers 304 if nothing changed meanwhile. The long poll is how a change reaches
    /// every gateway within a second.
    /// </summary>
    public const string GatewayState = "/api/gateways/state";

    /// <summary>GET: <see cref="ControllerStatus"/>.</summary>
    public const string Status = "/api/status";

    /// <summary>GET: <see cref="NodeView"/>[], live and lost.</summary>
    public const string Nodes = "/api/nodes";

    /// <summary>GET: <see cref="QueueView"/>[], summed over the nodes that serve each queue.</summary>
    public const string Queues = "/api/queues";

    /// <summary>GET: <see cref="ConsumerView"/>[] of every live node.</summary>
    public const string Consumers = "/api/consumers";

    /// <summary>
    /// GET: <see cref="PauseRule"/>[]. POST <see cref="PauseRequest"/>: pause (201 with the rule; 200 with the
    /// existing rule when the same one is already in force). DELETE <c>?vhost=&amp;queue=[&amp;clientAddress=][&amp;connectionName=]</c>:
    /// resume — without a scope every rule of the queue goes, with one only the rules of that scope;
    /// answers <see cref="RemovedReply"/>, 404 when nothing matched.
    /// </summary>
    public const string Pauses = "/api/pauses";

    /// <summary>
    /// GET: <see cref="ConsumeLimit"/>[]. PUT <see cref="ConsumeLimit"/>: set or change a queue's global consume
    /// rate. DELETE <c>?vhost=&amp;queue=</c>: remove it (404 when there is none).
    /// </summary>
    public const string ConsumeLimits = "/api/consume-limits";

    /// <summary>
    /// GET: <see cref="PublishLimit"/>[]. PUT <see cref="PublishLimit"/>: set or change a publish rate for a vhost
    /// (no exchange) or one exchange of it. DELETE <c>?vhost=[&amp;exchange=]</c>: remove it (404 when there is none).
    /// </summary>
    public const string PublishLimits = "/api/publish-limits";

    /// <summary>GET, no token: 200 <c>{"role":"leader"|"standby"}</c> while the process runs.</summary>
    public const string Health = "/healthz";

    /// <summary>GET, no token: Prometheus text format.</summary>
    public const string Metrics = "/metrics";

    /// <summary>The controller's default HTTP port.</summary>
    public const int DefaultPort = 15690;
}
