namespace MetaService.Core.Model;

/// <summary>A user's configure / write / read regular expressions in one vhost.</summary>
public sealed class Permission
{
    public string User { get; set; } = "";

    public string VirtualHost { get; set; } = "";

    public string Configure { get; set; } = "";

    public string Write { get; set; } = "";

    public string Read { get; set; } = "";
}
