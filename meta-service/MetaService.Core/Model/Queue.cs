namespace MetaService.Core.Model;

/// <summary>A queue, keyed by (vhost, name), and the log topic that stores its messages.</summary>
public sealed class Queue
{
    public string VirtualHost { get; set; } = "";

    public string Name { get; set; } = "";

    public bool Durable { get; set; }

    public bool AutoDelete { get; set; }

    /// <summary>The owning connection of an exclusive queue; null for a shared one.</summary>
    public string? ExclusiveOwner { get; set; }

    /// <summary>The declare arguments as a JSON object.</summary>
    public string Arguments { get; set; } = "{}";

    /// <summary>The log topic, unique and never reused: a redeclared queue starts on a new, empty topic.</summary>
    public string Topic { get; set; } = "";
}
