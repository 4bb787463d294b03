namespace MetaService.Core.Model;

/// <summary>A RabbitMQ policy, keyed by (vhost, name).</summary>
public sealed class Policy
{
    public string VirtualHost { get; set; } = "";

    public string Name { get; set; } = "";

    public string Pattern { get; set; } = "";

    public string ApplyTo { get; set; } = "all";

    public int Priority { get; set; }

    /// <summary>The policy definition as a JSON object.</summary>
    public string Definition { get; set; } = "{}";
}
