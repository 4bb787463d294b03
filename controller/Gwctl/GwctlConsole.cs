using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Gwctl;

/// <summary>
/// Where gwctl's tables go. On a terminal, Spectre.Console's own detection (colours, width, Unicode borders).
/// Anywhere else (a pipe, a file, a test's writer) plain text that scripts can read: no ANSI codes (Spectre
/// would emit them into any writer it does not recognise as redirected), ASCII borders, and a width no table
/// reaches, because at the 80 columns Spectre assumes off a terminal long queue names would wrap onto a
/// second line.
/// </summary>
internal static class GwctlConsole
{
    private const int UnlimitedWidth = 4096;

    public static (IAnsiConsole Console, TableBorder Border) Create(TextWriter output)
    {
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        if (terminal)
        {
            return (AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) }), TableBorder.Rounded);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = UnlimitedWidth;
        return (console, TableBorder.Ascii);
    }

    /// <summary>A cell of plain text: names from the wire may hold '[' and ']', which Spectre would read as markup.</summary>
    public static IRenderable Cell(string? text) => new Text(text ?? "");

    /// <summary>Messages per second with one decimal.</summary>
    public static string Rate(double perSecond) => perSecond.ToString("0.0", CultureInfo.InvariantCulture);

    public static string Count(long count) => count.ToString(CultureInfo.InvariantCulture);

    public static string YesNo(bool value) => value ? "yes" : "no";

    public static string Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-";

    /// <summary>"3.2 s ago" / "in 4.0 s": how far from now, for last-seen and lease times.</summary>
    public static string Relative(DateTimeOffset time, DateTimeOffset now)
    {
        double seconds = (time - now).TotalSeconds;
        string amount = Math.Abs(seconds).ToString("0.0", CultureInfo.InvariantCulture) + " s";
        return seconds >= 0 ? "in " + amount : amount + " ago";
    }

    public static Table NewTable(TableBorder border, params string[] headers)
    {
        var table = new Table().Border(border);
        foreach (string header in headers)
        {
            // Numbers line up on the right; headers ending in "/s" or counts are numeric.
            var column = new TableColumn(new Text(header));
            if (header.EndsWith("/s", StringComparison.Ordinal) || header is "Ready" or "Unacked" or "Consumers" or "Connections" or "Channels" or "Queues" or "Prefetch" or "Channel")
            {
                column.RightAligned();
            }

            table.AddColumn(column);
        }

        return table;
    }

    /// <summary>A row of plain-text cells (never markup).</summary>
    public static void AddTextRow(this Table table, params string?[] cells) => table.AddRow(cells.Select(Cell));
}
