namespace MetaService.Core.Model;

/// <summary>A user: RabbitMQ's salted password hash and tags; never a plain password.</summary>
public sealed class User
{
    public string Name { get; set; } = "";

    public string PasswordHash { get; set; } = "";

    public string HashingAlgorithm { get; set; } = "";

    /// <summary>The user's tags (administrator, monitoring, …) as a JSON array of strings.</summary>
    public string Tags { get; set; } = "[]";
}
