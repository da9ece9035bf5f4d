using System.Text;
using System.Text.RegularExpressions;

namespace KeyAbuseContent.Engine.Esql.Patterns;

/// <summary>A whole-string, case-sensitive matcher compiled from a LIKE pattern or a Lucene regular expression.</summary>
internal abstract class StringMatcher
{
    public abstract bool IsMatch(string text);

    /// <summary>
    /// A LIKE pattern: <c>*</c> any string, <c>?</c> one character, <c>\</c> escapes the next character.
    /// Plain prefixes, suffixes, infixes and exact strings skip the regex engine.
    /// </summary>
    public static StringMatcher Like(string pattern)
    {
        var parts = new List<(bool Wildcard, char Kind, string Text)>();
        var literal = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                if (i + 1 >= pattern.Length)
                {
                    throw new PatternException($"Invalid sequence - escape character is not followed by special wildcard char");
                }
                literal.Append(pattern[++i]);
            }
            else if (c is '*' or '?')
            {
                if (literal.Length > 0)
                {
                    parts.Add((false, ' ', literal.ToString()));
                    literal.Clear();
                }
                parts.Add((true, c, ""));
            }
            else
            {
                literal.Append(c);
            }
        }
        if (literal.Length > 0)
        {
            parts.Add((false, ' ', literal.ToString()));
        }
        static bool IsStar((bool Wildcard, char Kind, string Text) part) => part.Wildcard && part.Kind == '*';
        if (parts.Count == 0)
        {
            return new Exact("");
        }
        if (parts.TrueForAll(p => !p.Wildcard))
        {
            return new Exact(parts[0].Text);
        }
        if (parts.Count == 1 && IsStar(parts[0]))
        {
            return new Anything();
        }
        if (parts.Count == 2 && !parts[0].Wildcard && IsStar(parts[1]))
        {
            return new Prefix(parts[0].Text);
        }
        if (parts.Count == 2 && IsStar(parts[0]) && !parts[1].Wildcard)
        {
            return new Suffix(parts[1].Text);
        }
        if (parts.Count == 3 && IsStar(parts[0]) && !parts[1].Wildcard && IsStar(parts[2]))
        {
            return new Infix(parts[1].Text);
        }
        var regex = new StringBuilder();
        foreach (var part in parts)
        {
            regex.Append(part.Wildcard ? (part.Kind == '*' ? ".*" : ".") : Regex.Escape(part.Text));
        }
        return new Compiled(regex.ToString());
    }

    /// <summary>A Lucene regular expression (RLIKE): the whole string must match.</summary>
    public static StringMatcher Lucene(string pattern) => new Compiled(LuceneRegex.Translate(pattern));

    private sealed class Exact(string text) : StringMatcher
    {
        public override bool IsMatch(string value) => string.Equals(value, text, StringComparison.Ordinal);
    }

    private sealed class Anything : StringMatcher
    {
        public override bool IsMatch(string value) => true;
    }

    private sealed class Prefix(string text) : StringMatcher
    {
        public override bool IsMatch(string value) => value.StartsWith(text, StringComparison.Ordinal);
    }

    private sealed class Suffix(string text) : StringMatcher
    {
        public override bool IsMatch(string value) => value.EndsWith(text, StringComparison.Ordinal);
    }

    private sealed class Infix(string text) : StringMatcher
    {
        public override bool IsMatch(string value) => value.Contains(text, StringComparison.Ordinal);
    }

    private sealed class Compiled(string body) : StringMatcher
    {
        // Anchored on both ends; '.' matches newlines as in Lucene; non-backtracking keeps matching linear like an automaton.
        private readonly Regex regex = new($"\\A(?:{body})\\z", RegexOptions.Singleline | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

        public override bool IsMatch(string value) => regex.IsMatch(value);
    }
}

/// <summary>A pattern the matcher cannot compile; the binder reports it with the pattern's position.</summary>
internal sealed class PatternException : Exception
{
    public PatternException()
    {
    }

    public PatternException(string message)
        : base(message)
    {
    }

    public PatternException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
