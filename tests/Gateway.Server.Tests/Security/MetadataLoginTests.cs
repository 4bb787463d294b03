using MetaService.Contracts;
using MetaService.Contracts.Definitions;
using RabbitMQ.Client.Exceptions;
using TestSupport;

namespace Gateway.Server.Tests.Security;

/// <summary>
/// Logins are checked against the metadata store: RabbitMQ's salted hashes, per-vhost permissions,
/// and users imported from a real RabbitMQ's definitions keep their passwords.
/// </summary>
public sealed class MetadataLoginTests : GatewayTest
{
    [Fact]
    public async Task Embedded_store_starts_with_RabbitMQ_first_boot_defaults()
    {
        var guest = await Gateway.Metadata.GetUserAsync("guest");

        Assert.NotNull(guest);
        Assert.True(RabbitPasswordHashing.Verify("guest", guest!.PasswordHash, guest.HashingAlgorithm));
        Assert.NotNull(await Gateway.Metadata.GetPermissionAsync("guest", "/"));
        await using var connection = await Gateway.ClientFactory("guest", "guest").CreateConnectionAsync();
        Assert.True(connection.IsOpen);
    }

    [Fact]
    public async Task User_created_in_the_store_logs_in_and_a_changed_password_takes_effect()
    {
        await Gateway.Metadata.PutUserAsync(new UserRecord("alice", RabbitPasswordHashing.Hash("first"), RabbitPasswordHashing.Sha256, []));
        await Gateway.Metadata.SetPermissionAsync(new PermissionRecord("alice", "/", ".*", ".*", ".*"));

        await using (var connection = await Gateway.ClientFactory("alice", "first").CreateConnectionAsync())
        {
            Assert.True(connection.IsOpen);
        }

        await Gateway.Metadata.PutUserAsync(new UserRecord("alice", RabbitPasswordHashing.Hash("second"), RabbitPasswordHashing.Sha256, []));
        var refused = await Assert.ThrowsAsync<BrokerUnreachableException>(() => Gateway.ClientFactory("alice", "first").CreateConnectionAsync());
        Assert.IsType<AuthenticationFailureException>(refused.InnerException);
        await using var again = await Gateway.ClientFactory("alice", "second").CreateConnectionAsync();
        Assert.True(again.IsOpen);
    }

    [Fact]
    public async Task User_without_permissions_on_the_vhost_is_refused_with_530()
    {
        await Gateway.Metadata.PutUserAsync(new UserRecord("bob", RabbitPasswordHashing.Hash("pw"), RabbitPasswordHashing.Sha256, []));

        var reason = await GatewayFixture.OpenAndGetCloseReasonAsync(Gateway.ClientFactory("bob", "pw"));

        Assert.Equal(530, reason!.ReplyCode);
        Assert.Equal("NOT_ALLOWED - access to vhost '/' refused for user 'bob'", reason.ReplyText);
    }

    [Fact]
    public async Task Users_imported_from_RabbitMQ_definitions_log_in_with_their_original_passwords()
    {
        var definitions = RabbitMqDefinitions.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "rabbitmq-3.10-definitions.json")));
        await DefinitionsImporter.ImportAsync(Gateway.Metadata, definitions);

        // Passwords set with rabbitmqctl add_user on a real RabbitMQ 3.10; only their hashes were exported.
        await using (var appUser = await Gateway.ClientFactory("app-user", "s3cret!", vhost: "orders").CreateConnectionAsync())
        {
            Assert.True(appUser.IsOpen);
        }

        await using (var monitor = await Gateway.ClientFactory("monitor-bot", "wätcher#42", vhost: "orders").CreateConnectionAsync())
        {
            Assert.True(monitor.IsOpen);
        }

        var wrong = await Assert.ThrowsAsync<BrokerUnreachableException>(() => Gateway.ClientFactory("app-user", "S3cret!", vhost: "orders").CreateConnectionAsync());
        Assert.IsType<AuthenticationFailureException>(wrong.InnerException);

        // app-user has permissions in orders and billing, none in "/".
        var reason = await GatewayFixture.OpenAndGetCloseReasonAsync(Gateway.ClientFactory("app-user", "s3cret!", vhost: "/"));
        Assert.Equal(530, reason!.ReplyCode);
    }
}
