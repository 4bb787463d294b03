using System.Globalization;
using System.Text;
using MetaService.Contracts.Definitions;

namespace MetaService.Api.Hosting;

/// <summary>One line per import for the log and the command line: what each section did, and what was left out.</summary>
internal static class DefinitionsSummary
{
    public static string Describe(DefinitionsImportResult result)
    {
        var text = new StringBuilder();
        Section(text, "vhosts", result.VirtualHosts);
        Section(text, "users", result.Users);
        Section(text, "permissions", result.Permissions);
        Section(text, "exchanges", result.Exchanges);
        Section(text, "queues", result.Queues);
        Section(text, "bindings", result.Bindings);
        Section(text, "policies", result.Policies);
        text.Append(CultureInfo.InvariantCulture, $"not imported: {result.TopicPermissionsNotImported} topic permissions, ");
        text.Append(CultureInfo.InvariantCulture, $"{result.ParametersNotImported} parameters, ");
        text.Append(CultureInfo.InvariantCulture, $"{result.GlobalParametersNotImported} global parameters; ");
        text.Append(CultureInfo.InvariantCulture, $"{result.Warnings.Count} warnings");
        return text.ToString();
    }

    private static void Section(StringBuilder text, string name, ImportCounts counts) =>
        text.Append(CultureInfo.InvariantCulture,
            $"{name} {counts.Created} created, {counts.Updated} updated, {counts.Unchanged} unchanged, {counts.Skipped} skipped; ");
}
