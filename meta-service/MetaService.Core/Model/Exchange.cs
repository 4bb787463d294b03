namespace MetaService.Core.Model;

/// <summary>An exchange, keyed by (vhost, name).</summary>
public sealed class Exchange
{
    public string VirtualHost { get; set; } = "";

    public string Name { get; set; } = "";

    public string Type { get; set; } = "";

    public bool Durable { get; set; }

    public bool AutoDelete { get; set; }

    public bool Internal { get; set; }

    /// <summary>The declare arguments as a JSON object.</summary>
    public string Arguments { get; set; } = "{}";
}
