namespace MetaService.Api.Hosting;

/// <summary>
/// The service's settings; every one is a command-line switch or a <c>META_</c> environment variable
/// (switch wins). Defaults are in the property docs.
/// </summary>
public sealed record MetaServiceOptions
{
    public const int DefaultPort = 15680;

    /// <summary>Kestrel URLs (<c>--urls</c>, <c>META_URLS</c>); when unset, <c>http://{Bind}:{Port}</c>.</summary>
    public string? Urls { get; init; }

    /// <summary>Listen address (<c>--bind</c>, <c>META_BIND</c>). Default 0.0.0.0.</summary>
    public string Bind { get; init; } = "0.0.0.0";

    /// <summary>HTTP port (<c>--port</c>, <c>META_PORT</c>); 0 picks a free one. Default 15680.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>A PostgreSQL connection string (<c>--database</c>, <c>META_DATABASE</c>). Default none: SQLite.</summary>
    public string? Database { get; init; }

    /// <summary>The SQLite file (<c>--sqlite</c>, <c>META_SQLITE</c>). Default <c>{DataDir}/metadata.db</c>.</summary>
    public string? Sqlite { get; init; }

    /// <summary>Where the default SQLite file lives (<c>--data-dir</c>, <c>META_DATA_DIR</c>). Default <c>./data</c>.</summary>
    public string DataDir { get; init; } = "data";

    /// <summary>The API token every request must present as a bearer token (<c>--token</c>, <c>META_TOKEN</c>). Required.</summary>
    public string Token { get; init; } = "";

    /// <summary>The longest long poll of <c>GET /api/changes</c>; a longer <c>wait</c> is cut to this. Default 120 s.</summary>
    public TimeSpan MaxLongPollWait { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How often an idle change stream sends a keep-alive comment. Default 15 s.</summary>
    public TimeSpan StreamKeepAlive { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a start waits for a PostgreSQL server that is not reachable yet. Default 60 s.</summary>
    public TimeSpan DatabaseStartupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public string EffectiveUrls => Urls ?? $"http://{Bind}:{Port}";

    /// <summary>True when the store is PostgreSQL, false for SQLite.</summary>
    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Database);

    public string SqlitePath => Sqlite ?? Path.Combine(DataDir, "metadata.db");
}
