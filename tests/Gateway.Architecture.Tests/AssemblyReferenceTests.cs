using System.Reflection;
using Gateway.Protocol.Frames;

namespace Gateway.Architecture.Tests;

/// <summary>
/// The dependency rules checked on compiled assemblies (what the compiler actually bound to, which
/// the project files cannot show). Covers every rule whose assembly this test project can load:
/// today Gateway.Protocol and Gateway.Broker, which it references. Adding a ProjectReference to another gateway
/// project in the csproj brings its rule in here with no other change.
/// </summary>
public sealed class AssemblyReferenceTests
{
    public static TheoryData<string> LoadableRules()
    {
        var data = new TheoryData<string>();
        foreach (var rule in DependencyRules.All.Where(r => TryLoad(r.Project) is not null))
        {
            data.Add(rule.Project);
        }

        return data;
    }

    [Fact]
    public void The_protocol_assembly_is_checked()
    {
        Assert.Equal(DependencyRules.Protocol, typeof(FrameReader).Assembly.GetName().Name);
        Assert.NotNull(TryLoad(DependencyRules.Protocol));
    }

    [Theory]
    [MemberData(nameof(LoadableRules))]
    public void Referenced_assemblies_follow_the_rule(string project)
    {
        var rule = DependencyRules.For(project)!;
        var assembly = TryLoad(project)!;
        var references = assembly.GetReferencedAssemblies().Select(a => a.Name ?? string.Empty).ToList();
        var listed = string.Join(", ", references);
        foreach (var name in references)
        {
            if (DependencyRules.IsGatewayAssembly(name))
            {
                Assert.True(
                    rule.AllowedProjects is null || rule.AllowedProjects.Contains(name),
                    $"{project} references {name}: {rule.Why} (references: {listed})");
                Assert.False(rule.ForbiddenProjects.Contains(name), $"{project} references {name}: {rule.Why}");
                continue;
            }

            var forbidden = rule.ForbiddenPrefixes.FirstOrDefault(p => name.StartsWith(p, StringComparison.Ordinal));
            Assert.True(forbidden is null, $"{project} references {name} (forbidden: {forbidden}*): {rule.Why} (references: {listed})");
            if (rule.AllowedAssemblyPrefixes is { } allowed)
            {
                Assert.True(
                    allowed.Any(p => name.StartsWith(p, StringComparison.Ordinal)),
                    $"{project} references {name}, which is not a core BCL assembly ({string.Join(", ", allowed)}*): {rule.Why}");
            }
        }
    }

    [Fact]
    public void Protocol_references_only_core_runtime_assemblies()
    {
        // Spelled out so a failure names the exact assembly, independent of the rule table.
        var references = typeof(FrameReader).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("System.Runtime", references);
        Assert.DoesNotContain(references, n => n.StartsWith("Gateway.", StringComparison.Ordinal));
        Assert.DoesNotContain(references, n => n.StartsWith("System.Net", StringComparison.Ordinal));
        Assert.DoesNotContain(references, n => n == "System.IO.Pipelines");
        Assert.DoesNotContain(references, n => n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, n => n.StartsWith("Microsoft.Extensions", StringComparison.Ordinal));
    }

    private static Assembly? TryLoad(string name)
    {
        try
        {
            return Assembly.Load(new AssemblyName(name));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
