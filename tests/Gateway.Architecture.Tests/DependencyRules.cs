namespace Gateway.Architecture.Tests;

/// <summary>
/// What one gateway project may depend on. Checked against its csproj (and the Directory.Build
/// files above it) by <see cref="ProjectFileTests"/>, and against its compiled assembly by
/// <see cref="AssemblyReferenceTests"/> when this test project references it.
/// </summary>
/// <param name="Project">Project and assembly name; the csproj is gateway/&lt;Project&gt;/&lt;Project&gt;.csproj.</param>
/// <param name="AllowedProjects">Gateway projects it may reference directly; null means any (a composition root).</param>
/// <param name="ForbiddenProjects">Gateway projects it must not reach, directly or through other projects.</param>
/// <param name="ForbiddenPrefixes">
/// Assembly, package and framework names it must not reference (prefix match, so
/// "Microsoft.Extensions." covers every Microsoft.Extensions package).
/// </param>
/// <param name="AllowedAssemblyPrefixes">
/// When set, every assembly its compiled form references must start with one of these (after the
/// forbidden list has been applied); gateway projects named in <paramref name="AllowedProjects"/> are also allowed.
/// </param>
/// <param name="Why">The reason, shown when the rule fails.</param>
public sealed record DependencyRule(
    string Project,
    IReadOnlyList<string>? AllowedProjects,
    IReadOnlyList<string> ForbiddenProjects,
    IReadOnlyList<string> ForbiddenPrefixes,
    IReadOnlyList<string>? AllowedAssemblyPrefixes,
    string Why)
{
    public override string ToString() => Project;
}

/// <summary>
/// The layering, as data. A new project under gateway/ fails <see cref="ProjectFileTests"/> until
/// it gets a rule here, so every dependency decision is made on purpose.
/// </summary>
public static class DependencyRules
{
    public const string Protocol = "Gateway.Protocol";
    public const string Server = "Gateway.Server";
    public const string Broker = "Gateway.Broker";
    public const string Log = "Gateway.Log";
    public const string Host = "Gateway.Host";

    /// <summary>The metadata model and client; the gateway depends on it, never on the service's EF Core code.</summary>
    public const string MetadataContracts = "MetaService.Contracts";

    /// <summary>The controller's wire contract (desired state, gateway reports), which the server's traffic control enforces and reports in.</summary>
    public const string ControllerContracts = "Controller.Contracts";

    /// <summary>Transport and hosting: what the codec must never see.</summary>
    public static IReadOnlyList<string> IoAndHosting { get; } =
    [
        "System.Net.",
        "System.IO.Pipelines",
        "System.IO.Pipes",
        "System.IO.FileSystem",
        "System.Console",
        "Microsoft.AspNetCore",
        "Microsoft.Extensions.",
    ];

    public static IReadOnlyList<DependencyRule> All { get; } =
    [
        new(
            Protocol,
            AllowedProjects: [],
            ForbiddenProjects: [Server, Broker, Log, Host],
            ForbiddenPrefixes: IoAndHosting,
            AllowedAssemblyPrefixes: ["System."],
            Why: "the AMQP codec is pure: bytes in, structs out; no I/O, no hosting, no other gateway code"),
        new(
            Server,
            AllowedProjects: [Protocol, Broker, Log, MetadataContracts, ControllerContracts],
            ForbiddenProjects: [Host],
            ForbiddenPrefixes: [],
            AllowedAssemblyPrefixes: null,
            Why: "the server speaks AMQP (Protocol) to the broker core and enforces the controller's state (its contract); only the host composes it"),
        new(
            Broker,
            AllowedProjects: [Log, MetadataContracts],
            ForbiddenProjects: [Protocol, Server, Host],
            ForbiddenPrefixes: [],
            AllowedAssemblyPrefixes: null,
            Why: "the broker core (queues, exchanges, routing) knows nothing of the wire format, so it can be tested and reused without frames"),
        new(
            Log,
            AllowedProjects: [],
            ForbiddenProjects: [Protocol, Server, Broker, Host],
            ForbiddenPrefixes: [],
            AllowedAssemblyPrefixes: null,
            Why: "the message log is a leaf: storage only, no other gateway assembly"),
        new(
            MetadataContracts,
            AllowedProjects: [],
            ForbiddenProjects: [Protocol, Server, Broker, Log, Host],
            ForbiddenPrefixes: ["Microsoft.EntityFrameworkCore", "Microsoft.AspNetCore"],
            AllowedAssemblyPrefixes: null,
            Why: "the metadata contracts are shared by gateway, controller and tools: records and a client, no EF Core, no gateway code"),
        new(
            ControllerContracts,
            AllowedProjects: [],
            ForbiddenProjects: [Protocol, Server, Broker, Log, Host],
            ForbiddenPrefixes: ["Microsoft.EntityFrameworkCore", "Microsoft.AspNetCore"],
            AllowedAssemblyPrefixes: null,
            Why: "the controller contracts are shared by controller, gateway and gwctl: records and a client, no gateway code"),
        new(
            Host,
            AllowedProjects: null,
            ForbiddenProjects: [],
            ForbiddenPrefixes: [],
            AllowedAssemblyPrefixes: null,
            Why: "the host is the composition root and may reference everything"),
    ];

    public static DependencyRule? For(string project) => All.FirstOrDefault(r => r.Project == project);

    public static bool IsGatewayAssembly(string name) => All.Any(r => r.Project == name) || name.StartsWith("Gateway.", StringComparison.Ordinal);
}
