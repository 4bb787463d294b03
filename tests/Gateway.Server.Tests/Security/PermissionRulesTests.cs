using MetaService.Contracts;

namespace Gateway.Server.Tests.Security;

/// <summary>RabbitMQ's internal authorization rules, as the broker will apply them on every operation.</summary>
public sealed class PermissionRulesTests
{
    private static readonly PermissionRecord AppUser = new("app-user", "orders", "^orders\\..*", "^orders\\.events$", "");

    [Theory]
    [InlineData(PermissionKind.Configure, "orders.intake", true)]
    [InlineData(PermissionKind.Configure, "billing.intake", false)]
    [InlineData(PermissionKind.Write, "orders.events", true)]
    [InlineData(PermissionKind.Write, "orders.events.x", false)]
    [InlineData(PermissionKind.Read, "orders.intake", false)] // an empty regex grants nothing
    public void Regexes_are_matched_per_kind(PermissionKind kind, string resource, bool allowed) =>
        Assert.Equal(allowed, PermissionRules.IsAllowed(AppUser, kind, resource));

    [Fact]
    public void Matching_is_unanchored_as_in_RabbitMQ()
    {
        var permission = new PermissionRecord("u", "/", "orders", "orders", "orders");

        Assert.True(PermissionRules.IsAllowed(permission, PermissionKind.Read, "legacy.orders.v1"));
    }

    [Fact]
    public void The_default_exchange_is_checked_as_amq_default()
    {
        var permission = new PermissionRecord("u", "/", "", "^amq\\.default$", "");

        Assert.True(PermissionRules.IsAllowed(permission, PermissionKind.Write, ""));
        Assert.Equal("access to exchange 'amq.default' in vhost '/' refused for user 'u'", PermissionRules.RefusalText("exchange", "", "/", "u"));
    }

    [Fact]
    public void No_permission_entry_or_an_invalid_regex_denies()
    {
        Assert.False(PermissionRules.IsAllowed(null, PermissionKind.Read, "q"));
        Assert.False(PermissionRules.IsAllowed(new PermissionRecord("u", "/", "(", "(", "("), PermissionKind.Read, "q"));
    }

    [Fact]
    public void Refusal_text_is_RabbitMQs()
    {
        Assert.Equal("access to queue 'q' in vhost 'orders' refused for user 'app-user'", PermissionRules.RefusalText("queue", "q", "orders", "app-user"));
    }
}
