using MetaService.Api.Hosting;
using MetaService.Contracts;
using Microsoft.AspNetCore.Builder;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Security;

/// <summary>
/// A gateway started with --metadata http://… authenticates against a separate meta-service:
/// users created there log in, changes reach the gateway through the change feed, and the last
/// known users keep working while the meta-service is down.
/// </summary>
public sealed class RemoteMetadataLoginTests : IAsyncLifetime
{
    private const string Token = "remote-test-token";
    private readonly string _directory = Directory.CreateTempSubdirectory("meta-remote-").FullName;
    private WebApplication _metaService = null!;
    private GatewayFixture _gateway = null!;
    private MetaServiceClient _client = null!;

    public async Task InitializeAsync()
    {
        var options = new MetaServiceOptions { Bind = "127.0.0.1", Port = 0, Sqlite = Path.Combine(_directory, "meta.db"), Token = Token };
        _metaService = await MetaServiceApp.CreateAsync(options);
        await _metaService.StartAsync();
        var url = MetaServiceApp.ListeningUrls(_metaService)[0];
        _client = new MetaServiceClient(url, Token);
        _gateway = await GatewayFixture.StartAsync(false, "--metadata", url.ToString(), "--metadata-token", Token);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _client.Dispose();
        await _metaService.DisposeAsync();
    }

    [Fact]
    public async Task Users_of_the_remote_meta_service_log_in_and_changes_arrive_through_the_feed()
    {
        // The meta-service seeded RabbitMQ's defaults; the gateway learned them from its snapshot.
        await using (var guest = await _gateway.ClientFactory().CreateConnectionAsync())
        {
            Assert.True(guest.IsOpen);
        }

        await _client.PutUserWithPasswordAsync("carol", "c4rol-pw", []);
        await _client.SetPermissionAsync(new PermissionRecord("carol", "/", ".*", ".*", ".*"));

        // The change feed delivers the new user within well under a second.
        var opened = false;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!opened && DateTime.UtcNow < deadline)
        {
            try
            {
                await using var carol = await _gateway.ClientFactory("carol", "c4rol-pw").CreateConnectionAsync();
                opened = carol.IsOpen;
            }
            catch (BrokerUnreachableException)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(opened, "a user created on the meta-service could not log into the gateway");
        var wrong = await Assert.ThrowsAsync<BrokerUnreachableException>(() => _gateway.ClientFactory("carol", "nope").CreateConnectionAsync());
        Assert.IsType<AuthenticationFailureException>(wrong.InnerException);
    }

    [Fact]
    public async Task Last_known_users_keep_logging_in_while_the_meta_service_is_down()
    {
        await _metaService.StopAsync();

        await using var guest = await _gateway.ClientFactory().CreateConnectionAsync();
        Assert.True(guest.IsOpen);
    }
}
