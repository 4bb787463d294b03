using System.Xml.Linq;

namespace Gateway.Architecture.Tests;

/// <summary>One gateway/*/*.csproj and the references it (and the Directory.Build files above it) declare.</summary>
public sealed record ProjectFile(
    string Name,
    string Path,
    string Sdk,
    IReadOnlyList<string> ProjectReferences,
    IReadOnlyList<string> PackageReferences,
    IReadOnlyList<string> FrameworkReferences)
{
    public override string ToString() => Name;
}

/// <summary>Reads the repository's project files from disk; no build needed.</summary>
public static class ProjectFiles
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepositoryRoot => Root.Value;

    public static string GatewayDirectory => Path.Combine(RepositoryRoot, "gateway");

    /// <summary>Every project under gateway/, one folder deep (gateway/Name/Name.csproj).</summary>
    public static IReadOnlyList<ProjectFile> Gateway() =>
        [.. Directory.EnumerateFiles(GatewayDirectory, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !IsBuildOutput(p))
            .Order(StringComparer.Ordinal)
            .Select(Load)];

    public static ProjectFile Load(string csprojPath)
    {
        var document = XDocument.Load(csprojPath);
        var directory = System.IO.Path.GetDirectoryName(csprojPath)!;
        var documents = new List<XDocument> { document };
        documents.AddRange(DirectoryBuildFiles(directory).Select(XDocument.Load));

        var projects = Items(documents, "ProjectReference")
            .Select(include => System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, include.Replace('\\', '/'))))
            .ToList();
        var sdk = document.Root?.Attribute("Sdk")?.Value
            ?? document.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "Sdk")?.Attribute("Name")?.Value
            ?? string.Empty;
        return new ProjectFile(
            System.IO.Path.GetFileNameWithoutExtension(csprojPath),
            csprojPath,
            sdk,
            projects,
            [.. Items(documents, "PackageReference")],
            [.. Items(documents, "FrameworkReference")]);
    }

    /// <summary>Project name of a ProjectReference path (the csproj file name).</summary>
    public static string NameOf(string projectPath) => System.IO.Path.GetFileNameWithoutExtension(projectPath);

    /// <summary>Product code lives under gateway/, meta-service/ and controller/; tests and tools elsewhere.</summary>
    public static bool IsProductProject(string projectPath)
    {
        var full = System.IO.Path.GetFullPath(projectPath);
        return ProductDirectories.Any(d => full.StartsWith(System.IO.Path.Combine(RepositoryRoot, d) + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal));
    }

    private static readonly string[] ProductDirectories = ["gateway", "meta-service", "controller"];

    /// <summary>Directory.Build.props/.targets from the project's folder up to the repository root: they add items too.</summary>
    private static IEnumerable<string> DirectoryBuildFiles(string directory)
    {
        for (var current = new DirectoryInfo(directory); current is not null; current = current.Parent)
        {
            foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets" })
            {
                var candidate = System.IO.Path.Combine(current.FullName, name);
                if (File.Exists(candidate))
                {
                    yield return candidate;
                }
            }

            if (string.Equals(current.FullName.TrimEnd(System.IO.Path.DirectorySeparatorChar), RepositoryRoot, StringComparison.Ordinal))
            {
                yield break;
            }
        }
    }

    private static IEnumerable<string> Items(IEnumerable<XDocument> documents, string itemName) =>
        documents
            .SelectMany(d => d.Descendants().Where(e => e.Name.LocalName == itemName))
            .Select(e => e.Attribute("Include")?.Value ?? e.Attribute("Update")?.Value)
            .Where(v => !string.IsNullOrWhiteSpace(v))
            .Select(v => v!.Trim());

    private static bool IsBuildOutput(string path)
    {
        var separator = System.IO.Path.DirectorySeparatorChar;
        return path.Contains($"{separator}bin{separator}", StringComparison.Ordinal) || path.Contains($"{separator}obj{separator}", StringComparison.Ordinal);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Gateway.sln")) && Directory.Exists(System.IO.Path.Combine(directory.FullName, "gateway")))
            {
                return directory.FullName.TrimEnd(System.IO.Path.DirectorySeparatorChar);
            }
        }

        throw new InvalidOperationException($"no Gateway.sln above {AppContext.BaseDirectory}");
    }
}
