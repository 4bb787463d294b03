using System.Globalization;
using System.Xml.Linq;

namespace Gateway.Protocol.Tests.Spec;

/// <summary>The project's own amqp0-9-1.xml (embedded from gateway/Gateway.Protocol/Spec), parsed once.</summary>
internal sealed class AmqpSpecDocument
{
    private AmqpSpecDocument(XDocument document)
    {
        var root = document.Root!;
        Major = Int(root, "major");
        Minor = Int(root, "minor");
        Revision = Int(root, "revision");
        Constants = root.Elements("constant")
            .Select(c => new SpecConstant((string)c.Attribute("name")!, Int(c, "value"), (string?)c.Attribute("class")))
            .ToList();
        Domains = root.Elements("domain").ToDictionary(d => (string)d.Attribute("name")!, d => (string)d.Attribute("type")!);
        Classes = root.Elements("class").Select(ParseClass).ToList();
    }

    public static AmqpSpecDocument Instance { get; } = Load();

    public int Major { get; }

    public int Minor { get; }

    public int Revision { get; }

    public IReadOnlyList<SpecConstant> Constants { get; }

    /// <summary>Domain name → primitive type.</summary>
    public IReadOnlyDictionary<string, string> Domains { get; }

    public IReadOnlyList<SpecClass> Classes { get; }

    public IEnumerable<SpecMethod> Methods => Classes.SelectMany(c => c.Methods);

    private static AmqpSpecDocument Load()
    {
        using var stream = typeof(AmqpSpecDocument).Assembly.GetManifestResourceStream("amqp0-9-1.xml")
            ?? throw new InvalidOperationException("amqp0-9-1.xml is not embedded in the test assembly");
        return new AmqpSpecDocument(XDocument.Load(stream));
    }

    private SpecClass ParseClass(XElement c)
    {
        var name = (string)c.Attribute("name")!;
        var index = (ushort)Int(c, "index");
        var methods = c.Elements("method").Select(m => new SpecMethod(
            name,
            index,
            (string)m.Attribute("name")!,
            (ushort)Int(m, "index"),
            (string)m.Attribute("direction")!,
            (string?)m.Attribute("content") == "yes",
            m.Elements("field").Select(f => new SpecField((string)f.Attribute("name")!, DomainType(f))).ToList()));
        var properties = c.Elements("property").Select(p => new SpecProperty((string)p.Attribute("name")!, DomainType(p), Int(p, "bit")));
        return new SpecClass(name, index, methods.ToList(), properties.ToList());
    }

    private string DomainType(XElement element) => Domains[(string)element.Attribute("domain")!];

    private static int Int(XElement element, string attribute) =>
        int.Parse((string)element.Attribute(attribute)!, NumberStyles.None, CultureInfo.InvariantCulture);
}

internal sealed record SpecConstant(string Name, int Value, string? Class);

internal sealed record SpecClass(string Name, ushort Index, IReadOnlyList<SpecMethod> Methods, IReadOnlyList<SpecProperty> Properties);

internal sealed record SpecMethod(
    string ClassName,
    ushort ClassIndex,
    string Name,
    ushort Index,
    string Direction,
    bool HasContent,
    IReadOnlyList<SpecField> Fields)
{
    public string FullName => $"{ClassName}.{Name}";

    /// <summary>"queue" + "declare-ok" → QueueDeclareOk, the struct's name.</summary>
    public string StructName => Naming.Pascal(ClassName) + Naming.Pascal(Name);
}

/// <summary>A method argument; <see cref="Type"/> is the primitive its domain resolves to.</summary>
internal sealed record SpecField(string Name, string Type)
{
    public bool IsReserved => Name.StartsWith("reserved-", StringComparison.Ordinal);
}

internal sealed record SpecProperty(string Name, string Type, int Bit);

internal static class Naming
{
    /// <summary>"auto-delete" → "AutoDelete".</summary>
    public static string Pascal(string name) =>
        string.Concat(name.Split('-').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    /// <summary>"auto-delete" → "autoDelete" (the constructor parameter name).</summary>
    public static string Camel(string name)
    {
        var pascal = Pascal(name);
        return char.ToLowerInvariant(pascal[0]) + pascal[1..];
    }
}
