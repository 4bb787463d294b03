namespace Gateway.Architecture.Tests;

/// <summary>
/// The dependency rules checked on the project files themselves, so they hold for every project
/// under gateway/ — including ones this test project does not reference or that do not exist yet.
/// </summary>
public sealed class ProjectFileTests
{
    public static TheoryData<string> GatewayProjects()
    {
        var data = new TheoryData<string>();
        foreach (var project in ProjectFiles.Gateway())
        {
            data.Add(project.Name);
        }

        return data;
    }

    [Fact]
    public void The_protocol_project_is_found()
    {
        Assert.Contains(ProjectFiles.Gateway(), p => p.Name == DependencyRules.Protocol);
    }

    [Fact]
    public void Every_gateway_project_has_a_rule_and_lives_in_its_own_folder()
    {
        foreach (var project in ProjectFiles.Gateway())
        {
            Assert.True(
                DependencyRules.For(project.Name) is not null,
                $"{project.Path} has no entry in DependencyRules.All: decide what it may depend on and add one");
            var expected = Path.Combine(ProjectFiles.GatewayDirectory, project.Name, project.Name + ".csproj");
            Assert.Equal(expected, project.Path);
        }
    }

    [Fact]
    public void The_rule_table_names_only_known_projects()
    {
        var names = DependencyRules.All.Select(r => r.Project).ToHashSet();
        Assert.Equal(DependencyRules.All.Count, names.Count);
        foreach (var rule in DependencyRules.All)
        {
            foreach (var other in (rule.AllowedProjects ?? []).Concat(rule.ForbiddenProjects))
            {
                Assert.True(names.Contains(other), $"{rule.Project}'s rule names {other}, which has no rule of its own");
                Assert.NotEqual(rule.Project, other);
            }

            var contradictions = (rule.AllowedProjects ?? []).Intersect(rule.ForbiddenProjects).ToList();
            Assert.True(contradictions.Count == 0, $"{rule.Project} both allows and forbids {string.Join(", ", contradictions)}");
        }
    }

    [Theory]
    [MemberData(nameof(GatewayProjects))]
    public void Direct_project_references_follow_the_rule(string projectName)
    {
        var project = ProjectFiles.Gateway().Single(p => p.Name == projectName);
        var rule = DependencyRules.For(projectName);
        Assert.NotNull(rule);
        foreach (var reference in project.ProjectReferences)
        {
            var name = ProjectFiles.NameOf(reference);
            Assert.True(
                ProjectFiles.IsProductProject(reference),
                $"{projectName} references {reference}, outside the product folders (gateway/, meta-service/, controller/): product code must not depend on tests or tools");
            Assert.True(
                rule.AllowedProjects is null || rule.AllowedProjects.Contains(name),
                $"{projectName} must not reference {name}: {rule.Why} (allowed: {Describe(rule.AllowedProjects)})");
        }
    }

    [Theory]
    [MemberData(nameof(GatewayProjects))]
    public void Forbidden_projects_are_not_reached_even_indirectly(string projectName)
    {
        var rule = DependencyRules.For(projectName);
        Assert.NotNull(rule);
        var projects = ProjectFiles.Gateway().ToDictionary(p => p.Name);
        foreach (var (reached, path) in Reachable(projectName, projects))
        {
            Assert.False(
                rule.ForbiddenProjects.Contains(reached),
                $"{projectName} reaches {reached} via {string.Join(" -> ", path)}: {rule.Why}");
        }
    }

    [Theory]
    [MemberData(nameof(GatewayProjects))]
    public void Package_and_framework_references_follow_the_rule(string projectName)
    {
        var project = ProjectFiles.Gateway().Single(p => p.Name == projectName);
        var rule = DependencyRules.For(projectName);
        Assert.NotNull(rule);
        var references = project.PackageReferences.Concat(project.FrameworkReferences).ToList();
        if (project.Sdk.Contains(".Web", StringComparison.OrdinalIgnoreCase))
        {
            references.Add("Microsoft.AspNetCore.App (via " + project.Sdk + ")");
        }

        foreach (var reference in references)
        {
            var prefix = rule.ForbiddenPrefixes.FirstOrDefault(p => reference.StartsWith(p, StringComparison.OrdinalIgnoreCase));
            Assert.True(prefix is null, $"{projectName} must not reference {reference} (forbidden: {prefix}*): {rule.Why}");
        }
    }

    [Fact]
    public void The_project_graph_has_no_cycles()
    {
        var projects = ProjectFiles.Gateway().ToDictionary(p => p.Name);
        foreach (var name in projects.Keys)
        {
            var cycle = Reachable(name, projects).FirstOrDefault(r => r.Name == name);
            Assert.True(cycle.Path is null, $"cycle: {string.Join(" -> ", cycle.Path ?? [])}");
        }
    }

    /// <summary>Every project reachable from <paramref name="start"/> through ProjectReferences, with one path to it.</summary>
    private static List<(string Name, List<string> Path)> Reachable(string start, IReadOnlyDictionary<string, ProjectFile> projects)
    {
        var found = new List<(string, List<string>)>();
        var seen = new HashSet<string>();
        var queue = new Queue<List<string>>();
        queue.Enqueue([start]);
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            if (!projects.TryGetValue(path[^1], out var project))
            {
                continue;
            }

            foreach (var reference in project.ProjectReferences.Select(ProjectFiles.NameOf))
            {
                List<string> next = [.. path, reference];
                if (seen.Add(reference))
                {
                    found.Add((reference, next));
                    queue.Enqueue(next);
                }
            }
        }

        return found;
    }

    private static string Describe(IReadOnlyList<string>? names) => names is null ? "any" : names.Count == 0 ? "none" : string.Join(", ", names);
}
