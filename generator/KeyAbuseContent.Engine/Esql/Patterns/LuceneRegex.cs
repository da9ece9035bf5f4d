using System.Globalization;
using System.Text;

namespace KeyAbuseContent.Engine.Esql.Patterns;

/// <summary>
/// Translates Lucene's regular expression syntax (what RLIKE takes) into a .NET pattern with the same
/// meaning. Lucene has no anchors, so <c>^</c> and <c>$</c> are literals; <c>"..."</c> quotes a literal string;
/// <c>@</c> is any string and <c>#</c> the empty language; <c>\d \s \w</c> (and negations) are classes; any other
/// escaped character is itself. Intersection (<c>&amp;</c>), complement (<c>~</c>) and numeric intervals
/// (<c>&lt;1-5&gt;</c>) are refused rather than guessed.
/// </summary>
internal sealed class LuceneRegex
{
    private readonly string pattern;
    private int i;

    private LuceneRegex(string pattern) => this.pattern = pattern;

    public static string Translate(string pattern)
    {
        var parser = new LuceneRegex(pattern);
        var body = parser.Union();
        if (parser.i < pattern.Length)
        {
            throw new PatternException($"Invalid regular expression [{pattern}]: unexpected '{pattern[parser.i]}' at position {parser.i}");
        }
        return body;
    }

    private string Union()
    {
        var alternatives = new List<string> { Concatenation() };
        while (Peek('|'))
        {
            i++;
            alternatives.Add(Concatenation());
        }
        return alternatives.Count == 1 ? alternatives[0] : string.Join('|', alternatives);
    }

    private string Concatenation()
    {
        var text = new StringBuilder();
        while (i < pattern.Length && pattern[i] is not ('|' or ')'))
        {
            if (pattern[i] == '&')
            {
                throw new PatternException($"Invalid regular expression [{pattern}]: intersection '&' is outside the subset the embedded executor runs");
            }
            text.Append(Repeat());
        }
        return text.ToString();
    }

    private string Repeat()
    {
        var atom = Atom();
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (c is '*' or '+' or '?')
            {
                atom = $"(?:{atom}){c}";
                i++;
            }
            else if (c == '{')
            {
                var close = pattern.IndexOf('}', i);
                if (close < 0)
                {
                    throw new PatternException($"Invalid regular expression [{pattern}]: expected '}}' at position {i}");
                }
                var bounds = pattern[(i + 1)..close];
                var parts = bounds.Split(',');
                if (parts.Length > 2 || parts[0].Length == 0 || !parts.All(p => p.All(char.IsAsciiDigit)))
                {
                    throw new PatternException($"Invalid regular expression [{pattern}]: bad repetition '{{{bounds}}}' at position {i}");
                }
                atom = $"(?:{atom}){{{bounds}}}";
                i = close + 1;
            }
            else
            {
                break;
            }
        }
        return atom;
    }

    private string Atom()
    {
        var c = pattern[i];
        switch (c)
        {
            case '.':
                i++;
                return ".";
            case '@':
                i++;
                return ".*";
            case '#':
                i++;
                return "(?!)";
            case '(':
                {
                    i++;
                    if (Peek(')'))
                    {
                        i++;
                        return "";
                    }
                    var inner = Union();
                    if (!Peek(')'))
                    {
                        throw new PatternException($"Invalid regular expression [{pattern}]: expected ')' at position {i}");
                    }
                    i++;
                    return $"(?:{inner})";
                }
            case '"':
                {
                    var close = pattern.IndexOf('"', i + 1);
                    if (close < 0)
                    {
                        throw new PatternException($"Invalid regular expression [{pattern}]: expected '\"' at position {i}");
                    }
                    var literal = pattern[(i + 1)..close];
                    i = close + 1;
                    return $"(?:{System.Text.RegularExpressions.Regex.Escape(literal)})";
                }
            case '[':
                return CharacterClass();
            case '~':
                throw new PatternException($"Invalid regular expression [{pattern}]: complement '~' is outside the subset the embedded executor runs");
            case '<':
                throw new PatternException($"Invalid regular expression [{pattern}]: numeric intervals '<n-m>' are outside the subset the embedded executor runs");
            case '\\':
                return Escape(inClass: false);
            case '*' or '+' or '?' or '{':
                throw new PatternException($"Invalid regular expression [{pattern}]: nothing to repeat at position {i}");
            default:
                i++;
                return Literal(c);
        }
    }

    private string CharacterClass()
    {
        i++;
        var text = new StringBuilder("[");
        if (Peek('^'))
        {
            text.Append('^');
            i++;
        }
        var first = true;
        while (i < pattern.Length && (pattern[i] != ']' || first))
        {
            first = false;
            if (pattern[i] == '\\')
            {
                text.Append(Escape(inClass: true));
                continue;
            }
            var c = pattern[i++];
            if (c == '-' && text.Length > 1 && i < pattern.Length && pattern[i] != ']')
            {
                text.Append('-');
                continue;
            }
            text.Append(c is '[' or '^' or '-' ? "\\" + c : c.ToString());
        }
        if (i >= pattern.Length)
        {
            throw new PatternException($"Invalid regular expression [{pattern}]: expected ']'");
        }
        i++;
        return text.Append(']').ToString();
    }

    private string Escape(bool inClass)
    {
        if (i + 1 >= pattern.Length)
        {
            throw new PatternException($"Invalid regular expression [{pattern}]: a trailing '\\'");
        }
        var c = pattern[i + 1];
        i += 2;
        // Lucene's classes are ASCII: \d is [0-9], \w is [a-zA-Z0-9_], \s is ASCII whitespace.
        return (c, inClass) switch
        {
            ('d', false) => "[0-9]",
            ('D', false) => "[^0-9]",
            ('w', false) => "[a-zA-Z0-9_]",
            ('W', false) => "[^a-zA-Z0-9_]",
            ('s', false) => "[ \\t\\n\\x0B\\f\\r]",
            ('S', false) => "[^ \\t\\n\\x0B\\f\\r]",
            ('d', true) => "0-9",
            ('w', true) => "a-zA-Z0-9_",
            ('s', true) => " \\t\\n\\x0B\\f\\r",
            ('D' or 'W' or 'S', true) => throw new PatternException($"Invalid regular expression [{pattern}]: a negated class inside brackets is outside the subset the embedded executor runs"),
            (_, true) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
            _ => Literal(c),
        };
    }

    private static string Literal(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c > 127
        ? c.ToString()
        : "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture);

    private bool Peek(char c) => i < pattern.Length && pattern[i] == c;
}
