using System.Data.Common;
using System.Diagnostics;
using System.Net;
using MetaService.Api.Hosting;
using MetaService.Api.Tests.Support;
using Microsoft.Extensions.Logging;
using TestSupport;

namespace MetaService.Api.Tests;

/// <summary>What the service does when PostgreSQL is not there: waits at start, answers 503 later.</summary>
public sealed class DatabaseAvailabilityTests
{
    [Fact]
    public async Task Start_waits_for_an_unreachable_postgres_then_gives_up()
    {
        var logs = new LogCapture();
        var nobody = ServiceProcess.FreePort();
        var options = new MetaServiceOptions
        {
            Urls = "http://127.0.0.1:0",
            Token = ApiServer.Token,
            Database = $"Host=127.0.0.1;Port={nobody};Username=u;Password=secret-db-password;Database=d;Timeout=2",
            // Long enough that a first attempt slowed by a loaded machine (JIT, EF model) still leaves time to retry and log it.
            DatabaseStartupTimeout = TimeSpan.FromSeconds(6),
        };

        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<DbException>(() => MetaServiceApp.CreateAsync(options, l => l.AddProvider(logs)));
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.Contains(logs.Lines, line => line.Contains("[3013]", StringComparison.Ordinal));
        Assert.DoesNotContain("secret-db-password", logs.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Username=meta;Password=hunter2;Database=meta", "Host=db;Username=meta;Database=meta")]
    [InlineData("Host=db; PWD=x ;Database=m", "Host=db;Database=m")]
    [InlineData("Host=db", "Host=db")]
    public void Connection_strings_are_logged_without_passwords(string connectionString, string logged) =>
        Assert.Equal(logged, MetaServiceApp.RedactedConnectionString(connectionString));
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresOutageTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_vanished_database_is_503_with_retry_after()
    {
        var database = await PostgresTestDatabase.CreateAsync(postgres);
        await using var server = await ApiServer.StartAsync(database.Select(new MetaServiceOptions()));
        Assert.NotNull(await server.Client.GetVirtualHostAsync("/"));

        await postgres.DropDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString).Database!);
        Npgsql.NpgsqlConnection.ClearAllPools();

        using var http = server.CreateHttpClient(ApiServer.Token);
        var response = await http.GetAsync(new Uri("api/vhosts", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => server.Client.GetVirtualHostAsync("/"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failure.StatusCode);
        Assert.Contains(server.Logs.Lines, line => line.Contains("[3012]", StringComparison.Ordinal));
    }
}
