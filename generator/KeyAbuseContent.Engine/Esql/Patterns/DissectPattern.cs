using System.Text;

namespace KeyAbuseContent.Engine.Esql.Patterns;

/// <summary>
/// A dissect pattern, as Elasticsearch's dissect parser reads it: literal delimiters between <c>%{key}</c>s;
/// <c>%{+key}</c> appends (in <c>/n</c> order when given), <c>%{?key}</c> and <c>%{}</c> skip, <c>-&gt;</c> skips
/// repeats of the next delimiter. Each key's value ends at the first occurrence of the delimiter after it; the
/// last key without a delimiter takes the rest.
/// </summary>
internal sealed class DissectPattern
{
    private readonly string leading;
    private readonly List<Part> parts;

    private DissectPattern(string leading, List<Part> parts, IReadOnlyList<string> names)
    {
        this.leading = leading;
        this.parts = parts;
        Names = names;
    }

    /// <summary>The columns the pattern makes, in order of first appearance.</summary>
    public IReadOnlyList<string> Names { get; }

    public static DissectPattern Compile(string pattern)
    {
        var parts = new List<Part>();
        var names = new List<string>();
        var i = pattern.IndexOf("%{", StringComparison.Ordinal);
        if (i < 0)
        {
            throw new PatternException($"Unable to find any keys or delimiters for dissect pattern [{pattern}]");
        }
        var leading = pattern[..i];
        while (i >= 0)
        {
            var close = pattern.IndexOf('}', i + 2);
            if (close < 0)
            {
                throw new PatternException($"Invalid dissect pattern [{pattern}]: unclosed key at position {i}");
            }
            var spec = pattern[(i + 2)..close];
            var next = pattern.IndexOf("%{", close + 1, StringComparison.Ordinal);
            var delimiter = next < 0 ? pattern[(close + 1)..] : pattern[(close + 1)..next];
            var padding = spec.EndsWith("->", StringComparison.Ordinal);
            if (padding)
            {
                spec = spec[..^2];
            }
            var kind = spec.Length > 0 ? spec[0] : '?';
            string name;
            var order = 0;
            switch (kind)
            {
                case '+':
                    name = spec[1..];
                    var slash = name.IndexOf('/', StringComparison.Ordinal);
                    if (slash >= 0)
                    {
                        order = int.Parse(name[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                        name = name[..slash];
                    }
                    break;
                case '?':
                    name = "";
                    break;
                case '*' or '&':
                    throw new PatternException($"Invalid dissect pattern [{pattern}]: reference keys [{spec}] are not supported");
                default:
                    kind = ' ';
                    name = spec;
                    break;
            }
            if (next >= 0 && delimiter.Length == 0)
            {
                throw new PatternException($"Invalid dissect pattern [{pattern}]: keys must be separated by a delimiter");
            }
            parts.Add(new Part(name, kind == '?', kind == '+', order, padding, delimiter));
            if (name.Length > 0 && kind != '?' && !names.Contains(name))
            {
                names.Add(name);
            }
            i = next;
        }
        return new DissectPattern(leading, parts, names);
    }

    /// <summary>The values of the keys, or null when the text does not match.</summary>
    public Dictionary<string, string>? Match(string text, string appendSeparator)
    {
        if (!text.StartsWith(leading, StringComparison.Ordinal))
        {
            return null;
        }
        var position = leading.Length;
        var values = new List<(Part Part, string Value, int Index)>();
        for (var k = 0; k < parts.Count; k++)
        {
            var part = parts[k];
            string value;
            if (part.Delimiter.Length == 0)
            {
                value = text[position..];
                position = text.Length;
            }
            else
            {
                var end = text.IndexOf(part.Delimiter, position, StringComparison.Ordinal);
                if (end < 0)
                {
                    return null;
                }
                value = text[position..end];
                position = end + part.Delimiter.Length;
                if (part.RightPadding)
                {
                    while (string.CompareOrdinal(text, position, part.Delimiter, 0, part.Delimiter.Length) == 0 && position + part.Delimiter.Length <= text.Length)
                    {
                        position += part.Delimiter.Length;
                    }
                }
            }
            values.Add((part, value, k));
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in values.Where(v => !v.Part.Skip && v.Part.Name.Length > 0).GroupBy(v => v.Part.Name))
        {
            var ordered = group.OrderBy(v => v.Part.Append ? v.Part.Order : 0).ThenBy(v => v.Index).ToList();
            result[group.Key] = ordered.Any(v => v.Part.Append)
                ? string.Join(appendSeparator, ordered.Select(v => v.Value))
                : ordered[^1].Value;
        }
        return result;
    }

    private sealed record Part(string Name, bool Skip, bool Append, int Order, bool RightPadding, string Delimiter);
}

/// <summary>A grok pattern compiled to a .NET regular expression with the named captures it declares.</summary>
internal sealed class GrokPattern
{
    private readonly System.Text.RegularExpressions.Regex regex;
    private readonly List<(string Group, int Capture)> groups;

    private GrokPattern(System.Text.RegularExpressions.Regex regex, List<(string Group, int Capture)> groups, IReadOnlyList<(string Name, string Type)> captures)
    {
        this.regex = regex;
        this.groups = groups;
        Captures = captures;
    }

    /// <summary>The columns, in order of first appearance, with the type suffix of each (<c>keyword</c> when none).</summary>
    public IReadOnlyList<(string Name, string Type)> Captures { get; }

    public static GrokPattern Compile(string pattern)
    {
        var captures = new List<(string Name, string Type)>();
        var groups = new List<(string Group, int Capture)>();
        var body = Expand(pattern, captures, groups, 0);
        try
        {
            var regex = new System.Text.RegularExpressions.Regex(body, System.Text.RegularExpressions.RegexOptions.CultureInvariant | System.Text.RegularExpressions.RegexOptions.ExplicitCapture);
            return new GrokPattern(regex, groups, captures);
        }
        catch (ArgumentException e)
        {
            throw new PatternException($"Invalid GROK pattern [{pattern}]: {e.Message}");
        }
    }

    private static string Expand(string pattern, List<(string Name, string Type)> captures, List<(string Group, int Capture)> groups, int depth)
    {
        if (depth > 20)
        {
            throw new PatternException("GROK patterns nest too deeply");
        }
        var text = new StringBuilder();
        var i = 0;
        while (i < pattern.Length)
        {
            if (string.CompareOrdinal(pattern, i, "%{", 0, 2) == 0)
            {
                var close = pattern.IndexOf('}', i);
                if (close < 0)
                {
                    throw new PatternException($"Invalid GROK pattern [{pattern}]: unclosed %{{ at position {i}");
                }
                var spec = pattern[(i + 2)..close].Split(':');
                var definition = GrokLibrary.Find(spec[0]) ?? throw new PatternException($"Unable to find pattern [{spec[0]}] in Grok's pattern dictionary");
                var inner = Expand(definition, captures, groups, depth + 1);
                if (spec.Length > 1)
                {
                    var name = spec[1];
                    var type = spec.Length > 2 ? spec[2] : "keyword";
                    var capture = captures.FindIndex(c => c.Name == name);
                    if (capture < 0)
                    {
                        capture = captures.Count;
                        captures.Add((name, type));
                    }
                    var group = $"g{groups.Count}";
                    groups.Add((group, capture));
                    text.Append("(?<").Append(group).Append('>').Append(inner).Append(')');
                }
                else
                {
                    text.Append("(?:").Append(inner).Append(')');
                }
                i = close + 1;
                continue;
            }
            if (depth == 0 && string.CompareOrdinal(pattern, i, "(?<", 0, 3) == 0 && i + 3 < pattern.Length && pattern[i + 3] is not ('=' or '!'))
            {
                var end = pattern.IndexOf('>', i);
                var name = pattern[(i + 3)..end];
                var capture = captures.FindIndex(c => c.Name == name);
                if (capture < 0)
                {
                    capture = captures.Count;
                    captures.Add((name, "keyword"));
                }
                var group = $"g{groups.Count}";
                groups.Add((group, capture));
                text.Append("(?<").Append(group).Append('>');
                i = end + 1;
                continue;
            }
            text.Append(pattern[i]);
            i++;
        }
        return text.ToString();
    }

    /// <summary>The captured strings per capture (several when a name repeats), or null when nothing matches.</summary>
    public List<string>[]? Match(string text)
    {
        var match = regex.Match(text);
        if (!match.Success)
        {
            return null;
        }
        var values = new List<string>[Captures.Count];
        for (var c = 0; c < values.Length; c++)
        {
            values[c] = [];
        }
        foreach (var (group, capture) in groups)
        {
            var g = match.Groups[group];
            if (g.Success)
            {
                values[capture].Add(g.Value);
            }
        }
        return values;
    }
}
