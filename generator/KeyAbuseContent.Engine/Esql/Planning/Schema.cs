using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Planning;

/// <summary>A column between two commands: its name and type, and why it is unsupported when it is.</summary>
internal sealed record Attribute(string Name, EsqlType Type, string? UnsupportedReason = null);

/// <summary>The columns between two commands, in order; names are unique.</summary>
internal sealed class Schema(ImmutableArray<Attribute> attributes)
{
    public static Schema Empty { get; } = new([]);

    public ImmutableArray<Attribute> Attributes { get; } = attributes;

    public int Count => Attributes.Length;

    public Attribute this[int index] => Attributes[index];

    public int IndexOf(string name)
    {
        for (var i = 0; i < Attributes.Length; i++)
        {
            if (Attributes[i].Name == name)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The closest names, for "did you mean" in an unknown-column error.</summary>
    public IEnumerable<string> Suggestions(string name) => Attributes
        .Select(a => a.Name)
        .Where(n => Distance(n, name) <= Math.Max(2, name.Length / 3))
        .Take(3);

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
