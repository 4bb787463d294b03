using System.Globalization;

namespace Gateway.Compare.Bench;

/// <summary>
/// The broker's operating-system process, for the memory rows: its resident set from /proc/PID/status. Found from
/// the AMQP port when not given: the listening socket's inode in /proc/net/tcp{,6}, then the process holding a
/// descriptor to that inode (for RabbitMQ that is beam.smp, for the gateway the dotnet host). Linux only, and only
/// for a broker on this machine; the rows say n/a otherwise.
/// </summary>
internal static class BrokerProcess
{
    private const string ListenState = "0A";

    public static int? FindListener(int port)
    {
        var inodes = new HashSet<string>();
        foreach (string table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            foreach (string line in File.ReadLines(table).Skip(1))
            {
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == ListenState && LocalPort(fields[1]) == port)
                {
                    inodes.Add($"socket:[{fields[9]}]");
                }
            }
        }

        if (inodes.Count == 0)
        {
            return null;
        }

        foreach (string processDirectory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(processDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                foreach (string descriptor in Directory.EnumerateFileSystemEntries(Path.Combine(processDirectory, "fd")))
                {
                    if (new FileInfo(descriptor).LinkTarget is { } target && inodes.Contains(target))
                    {
                        return pid;
                    }
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // another user's process without the rights to look, or one that just exited
            }
        }

        return null;
    }

    /// <summary>Resident set size in bytes (VmRSS), or null when the process is gone or unreadable.</summary>
    public static long? ResidentBytes(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                // "VmRSS:     123456 kB"
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    string kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
        }

        return null;
    }

    public static string Name(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return "?";
        }
    }

    // "0100007F:1636": the port is the hex after the colon.
    private static int LocalPort(string address) =>
        int.Parse(address.AsSpan(address.LastIndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
