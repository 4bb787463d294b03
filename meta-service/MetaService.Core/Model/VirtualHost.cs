namespace MetaService.Core.Model;

/// <summary>A RabbitMQ virtual host. Everything else in the model lives in one (except users).</summary>
public sealed class VirtualHost
{
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    /// <summary>The vhost's tags as a JSON array of strings.</summary>
    public string Tags { get; set; } = "[]";
}
