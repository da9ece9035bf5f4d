using System.Collections.Immutable;
using KeyAbuseContent.Diagnostics;

namespace KeyAbuseContent.Yaml;

/// <summary>A YAML node that keeps where it starts, so every later diagnostic can point at it.</summary>
public abstract record YamlNode(SourcePosition Start)
{
    /// <summary>A short name of the node's shape for messages ("a mapping", "a string").</summary>
    public abstract string Describe();
}

/// <summary>The resolved type of a scalar under the YAML 1.2 core schema.</summary>
public enum ScalarType
{
    Null,
    Bool,
    Int,
    Float,
    String,
}

/// <summary>How a scalar was written, which decides how offsets in its text map to columns.</summary>
public enum ScalarLayout
{
    Plain,
    Quoted,
    Block,
}

/// <summary>A scalar with its text as written and its YAML 1.2 core-schema resolution.</summary>
public sealed record YamlScalar(SourcePosition Start, string Text, ScalarType Type, ScalarLayout Layout = ScalarLayout.Plain) : YamlNode(Start)
{
    /// <summary>The position of the character at <paramref name="offset"/> of the text, exact for one-line scalars.</summary>
    public SourcePosition PositionOf(int offset)
    {
        if (Layout == ScalarLayout.Block)
        {
            // A block scalar's text starts on the line after its indicator; columns are those of its indentation, unknown here.
            var line = Text.AsSpan(0, Math.Min(offset, Text.Length)).Count('\n');
            return Start with { Line = Start.Line + 1 + line, Column = 0 };
        }
        var skip = Layout == ScalarLayout.Quoted ? 1 : 0;
        return Start with { Column = Start.Column + skip + offset };
    }

    public override string Describe() => Type switch
    {
        ScalarType.Null => "null",
        ScalarType.Bool => "a boolean",
        ScalarType.Int => "an integer",
        ScalarType.Float => "a number",
        _ => "a string",
    };
}

/// <summary>A sequence of nodes.</summary>
public sealed record YamlSequence(SourcePosition Start, ImmutableArray<YamlNode> Items) : YamlNode(Start)
{
    public override string Describe() => "a list";
}

/// <summary>One key and its value in a mapping; the key keeps its own position.</summary>
public sealed record YamlEntry(YamlScalar Key, YamlNode Value);

/// <summary>A mapping with string keys, in document order, without duplicates.</summary>
public sealed record YamlMapping(SourcePosition Start, ImmutableArray<YamlEntry> Entries) : YamlNode(Start)
{
    public override string Describe() => "a mapping";

    public YamlNode? this[string key]
    {
        get
        {
            foreach (var e in Entries)
            {
                if (e.Key.Text == key)
                {
                    return e.Value;
                }
            }
            return null;
        }
    }

    public YamlEntry? Entry(string key)
    {
        foreach (var e in Entries)
        {
            if (e.Key.Text == key)
            {
                return e;
            }
        }
        return null;
    }
}
