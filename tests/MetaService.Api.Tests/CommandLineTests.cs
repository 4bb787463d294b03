using System.Text.Json.Nodes;
using MetaService.Api.Hosting;
using MetaService.Api.Tests.Support;
using MetaService.Contracts;
using MetaService.Contracts.Definitions;

namespace MetaService.Api.Tests;

/// <summary>The executable's command line: serving configured by META_ variables, and the definitions commands.</summary>
public sealed class CommandLineTests : IAsyncLifetime
{
    private readonly SqliteTestDatabase _source = new();
    private readonly SqliteTestDatabase _target = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "meta-cli-" + Guid.NewGuid().ToString("N")[..12]);

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _target.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Export_then_import_through_the_databases()
    {
        var store = await _source.OpenStoreAsync();
        await SeedAsync(store);
        var file = Path.Combine(_directory, "definitions.json");

        var export = await ServiceProcess.RunAsync(["export-definitions", file, .. _source.Switches]);
        Assert.True(export.ExitCode == 0, export.Output);
        var document = RabbitMqDefinitions.Parse(await File.ReadAllTextAsync(file));
        Assert.Contains(document.Queues, q => q.Name == "cli-q" && q.VirtualHost == "cli");
        Assert.Contains(document.Users, u => u.Name == "cli-user" && u.PasswordHash.Length > 0);

        var import = await ServiceProcess.RunAsync(["import-definitions", file, .. _target.Switches]);
        Assert.True(import.ExitCode == 0, import.Output);
        Assert.Contains("queues 1 created", import.Output, StringComparison.Ordinal);

        var target = await _target.OpenStoreAsync();
        Assert.NotNull(await target.GetQueueAsync("cli", "cli-q"));
        var user = await target.GetUserAsync("cli-user");
        Assert.True(RabbitPasswordHashing.Verify("cli-pw", user!.PasswordHash, user.HashingAlgorithm));

        var again = await ServiceProcess.RunAsync(["import-definitions", file, .. _target.Switches]);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("queues 0 created, 0 updated, 1 unchanged", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_then_import_through_a_running_service()
    {
        await SeedAsync(await _source.OpenStoreAsync());
        await using var source = await ApiServer.StartAsync(_source.Select(new MetaServiceOptions()));
        await using var target = await ApiServer.StartAsync(_target.Select(new MetaServiceOptions()));
        var file = Path.Combine(_directory, "remote.json");

        var export = await ServiceProcess.RunAsync(
            ["export-definitions", file, "--remote", source.BaseAddress.AbsoluteUri, "--token", ApiServer.Token]);
        Assert.True(export.ExitCode == 0, export.Output);

        var import = await ServiceProcess.RunAsync(
            ["import-definitions", file, "--remote", target.BaseAddress.AbsoluteUri],
            new Dictionary<string, string> { ["META_TOKEN"] = ApiServer.Token });
        Assert.True(import.ExitCode == 0, import.Output);
        Assert.NotNull(await target.Client.GetQueueAsync("cli", "cli-q"));
        Assert.Contains(target.Logs.Lines, line => line.Contains("[3010]", StringComparison.Ordinal));

        var wrongToken = await ServiceProcess.RunAsync(["import-definitions", file, "--remote", target.BaseAddress.AbsoluteUri, "--token", "nope"]);
        Assert.Equal(1, wrongToken.ExitCode);
        Assert.Contains("401", wrongToken.Output, StringComparison.Ordinal);

        var noToken = await ServiceProcess.RunAsync(["import-definitions", file, "--remote", target.BaseAddress.AbsoluteUri]);
        Assert.Equal(2, noToken.ExitCode);
    }

    [Fact]
    public async Task A_refused_import_exits_1_with_the_reason()
    {
        var file = Path.Combine(_directory, "bad.json");
        await File.WriteAllTextAsync(file, """{"users": [{"name": "x", "password_hash": "AAAAAAAA", "hashing_algorithm": "rot13", "tags": ""}]}""");
        var result = await ServiceProcess.RunAsync(["import-definitions", file, .. _target.Switches]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("refused (406)", result.Output, StringComparison.Ordinal);
        Assert.Contains("rot13", result.Output, StringComparison.Ordinal);

        var missing = await ServiceProcess.RunAsync(["import-definitions", Path.Combine(_directory, "none.json"), .. _target.Switches]);
        Assert.Equal(1, missing.ExitCode);
        var notJson = Path.Combine(_directory, "not.json");
        await File.WriteAllTextAsync(notJson, "hello");
        Assert.Equal(1, (await ServiceProcess.RunAsync(["import-definitions", notJson, .. _target.Switches])).ExitCode);
    }

    [Fact]
    public async Task Serving_needs_a_token()
    {
        var result = await ServiceProcess.RunAsync(["--sqlite", _source.FilePath, "--port", "0"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("META_TOKEN", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serves_from_META_variables_with_the_default_sqlite_file_in_the_data_dir()
    {
        var port = ServiceProcess.FreePort();
        var dataDir = Path.Combine(_directory, "data");
        await using var service = await ServiceProcess.StartAsync(
            [],
            port,
            new Dictionary<string, string>
            {
                ["META_BIND"] = "127.0.0.1",
                ["META_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["META_DATA_DIR"] = dataDir,
            },
            passUrls: false);
        using var client = service.CreateClient();
        Assert.Contains(await client.ListVirtualHostsAsync(), v => v.Name == "/");
        Assert.True(File.Exists(Path.Combine(dataDir, "metadata.db")));
        Assert.Contains("[3001]", service.Output, StringComparison.Ordinal); // store ready, on the console log
        Assert.DoesNotContain(ApiServer.Token, service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_the_commands()
    {
        var result = await ServiceProcess.RunAsync(["--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("export-definitions", result.Output, StringComparison.Ordinal);
        Assert.Contains("import-definitions", result.Output, StringComparison.Ordinal);
        Assert.Contains("--token", result.Output, StringComparison.Ordinal);
    }

    private static async Task SeedAsync(IMetadataStore store)
    {
        await store.PutVirtualHostAsync(new VirtualHostRecord("cli", "imported by the CLI test"));
        await store.PutUserAsync(new UserRecord("cli-user", RabbitPasswordHashing.Hash("cli-pw"), RabbitPasswordHashing.Sha256, ["management"]));
        await store.SetPermissionAsync(new PermissionRecord("cli-user", "cli", ".*", ".*", ".*"));
        await store.DeclareExchangeAsync(new ExchangeRecord("cli", "cli-x", "direct", true, false, false, []), false);
        await store.DeclareQueueAsync(new QueueRecord("cli", "cli-q", true, false, new JsonObject { ["x-message-ttl"] = 5000 }), false);
        await store.BindAsync(new BindingRecord("cli", "cli-x", "cli-q", BindingDestinationType.Queue, "k", []));
    }
}
