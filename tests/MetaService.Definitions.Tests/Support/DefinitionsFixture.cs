using MetaService.Contracts.Definitions;

namespace MetaService.Definitions.Tests.Support;

/// <summary>
/// Fixtures/rabbitmq-3.10-definitions.json: RabbitMQ 3.10.8's own export of the topology that
/// scripts/definitions-fixture/populate-rabbitmq.sh builds. The passwords below are the ones that script
/// gives rabbitmqctl add_user; keep both in step when regenerating.
/// </summary>
internal static class DefinitionsFixture
{
    public const string FileName = "rabbitmq-3.10-definitions.json";

    public static readonly IReadOnlyDictionary<string, string> Passwords = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["admin-ops"] = "Adm1n-pa55",
        ["app-user"] = "s3cret!",
        ["monitor-bot"] = "wätcher#42",
        ["guest"] = "guest",
    };

    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", FileName);

    public static string Text() => File.ReadAllText(Path);

    public static RabbitMqDefinitions Load() => RabbitMqDefinitions.Parse(Text());
}
