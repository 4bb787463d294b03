using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TestSupport;

/// <summary>
/// A throwaway PostgreSQL server for tests: a fresh cluster (initdb) in a temporary directory, started
/// with pg_ctl on a free loopback port, with fsync off, and stopped and deleted on dispose. Meant as an
/// xunit collection fixture, so the server starts once for every test class in the collection; each
/// class asks for its own database with <see cref="GetDatabaseAsync"/>.
/// </summary>
/// <remarks>
/// Uses the newest /usr/lib/postgresql/*/bin (Debian's layout). PostgreSQL refuses to run as root, so
/// when the tests run as root the cluster belongs to the postgres user and every server command runs
/// through <c>runuser -u postgres --</c>; as any other user the commands run directly.
/// </remarks>
public sealed class PostgresFixture : IDisposable
{
    private const string SuperUser = "postgres";

    private readonly string _binDirectory;
    private readonly string _dataDirectory;
    private readonly bool _asPostgresUser;
    private readonly Dictionary<string, Task<string>> _databases = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _disposed;

    public PostgresFixture()
    {
        _binDirectory = FindBinDirectory();
        _asPostgresUser = Environment.UserName == "root";
        _dataDirectory = Path.Combine(Path.GetTempPath(), "pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dataDirectory);
        try
        {
            if (_asPostgresUser)
            {
                Run("chown", ["-R", $"{SuperUser}:{SuperUser}", _dataDirectory], asPostgres: false);
            }

            Run(Tool("initdb"), ["-D", _dataDirectory, "-A", "trust", "-U", SuperUser, "--no-sync"]);
            Port = FreePort();
            var options = string.Join(
                ' ',
                $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
                $"-k {_dataDirectory}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300");
            Run(Tool("pg_ctl"), ["-D", _dataDirectory, "-o", options, "-l", Path.Combine(_dataDirectory, "server.log"), "-w", "-t", "60", "start"]);
        }
        catch
        {
            TryDelete(_dataDirectory);
            throw;
        }

        // A test run that dies without disposing must not leave a server behind.
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>The server's TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>A connection string to the server's "postgres" database.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    /// <summary>A connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port.ToString(CultureInfo.InvariantCulture)};Username={SuperUser};Database={database};Include Error Detail=true";

    /// <summary>
    /// The connection string of a database for <paramref name="owner"/> (typically the test class name),
    /// created on first request; every later request with the same owner gets the same database.
    /// </summary>
    public Task<string> GetDatabaseAsync(string owner)
    {
        lock (_gate)
        {
            if (!_databases.TryGetValue(owner, out var database))
            {
                database = CreateDatabaseAsync();
                _databases[owner] = database;
            }

            return database;
        }
    }

    /// <summary>Creates a new, empty database and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync() =>
        Task.Run(() =>
        {
            var name = "t_" + Guid.NewGuid().ToString("N")[..16];
            Run(Tool("createdb"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", SuperUser, name], asPostgres: false);
            return ConnectionString(name);
        });

    /// <summary>Drops a database, disconnecting whoever is still connected to it.</summary>
    public Task DropDatabaseAsync(string database) =>
        Task.Run(() => Run(
            Tool("dropdb"),
            ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", SuperUser, "--force", "--if-exists", database],
            asPostgres: false));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Stop();
    }

    private void OnProcessExit(object? sender, EventArgs e) => Dispose();

    private void Stop()
    {
        try
        {
            Run(Tool("pg_ctl"), ["-D", _dataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"]);
        }
        catch (InvalidOperationException)
        {
            // Already stopped; the directory goes anyway.
        }
        finally
        {
            TryDelete(_dataDirectory);
        }
    }

    private string Tool(string name) => Path.Combine(_binDirectory, name);

    private static string FindBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        var candidates = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: double.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var v) ? v : 0))
                .Where(c => File.Exists(Path.Combine(c.Dir, "initdb")) && File.Exists(Path.Combine(c.Dir, "pg_ctl")))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Dir)
                .ToList()
            : [];
        return candidates.Count > 0
            ? candidates[0]
            : throw new InvalidOperationException($"PostgreSQL server binaries (initdb, pg_ctl) not found under {root}/*/bin; install Debian's postgresql package");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Run(string fileName, IReadOnlyList<string> arguments, bool? asPostgres = null)
    {
        var viaRunuser = asPostgres ?? _asPostgresUser;
        var start = new ProcessStartInfo
        {
            FileName = viaRunuser ? "runuser" : fileName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (viaRunuser)
        {
            foreach (var argument in new[] { "-u", SuperUser, "--", fileName })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{fileName} did not finish in 120 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stdout.Result}{stderr.Result}");
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
