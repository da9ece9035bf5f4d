using System.Collections.Immutable;
using System.Text;

namespace KeyAbuseContent.Expressions.Regex;

/// <summary>
/// A regular expression of the subset both dialects execute the same way: literals, <c>.</c>, classes,
/// groups, alternation, quantifiers, and <c>^</c>/<c>$</c> only at the ends. Parsed once, rendered per
/// dialect (RE2 for KQL <c>matches regex</c>, Lucene for ES|QL <c>RLIKE</c>).
/// </summary>
public abstract record RegexNode;

/// <summary>One literal character.</summary>
public sealed record RegexChar(char Value) : RegexNode;

/// <summary><c>.</c>: any character, newlines included, in both dialects.</summary>
public sealed record RegexAny : RegexNode;

/// <summary>A range of characters in a class; a single character has From == To.</summary>
public readonly record struct CharRange(char From, char To);

/// <summary>A character class <c>[a-z0-9_]</c>, or its negation.</summary>
public sealed record RegexClass(bool Negated, ImmutableArray<CharRange> Ranges) : RegexNode;

/// <summary>A sequence of nodes.</summary>
public sealed record RegexConcat(ImmutableArray<RegexNode> Items) : RegexNode;

/// <summary>Alternatives; rendered inside a group.</summary>
public sealed record RegexAlternation(ImmutableArray<RegexNode> Options) : RegexNode;

/// <summary>A group <c>( )</c>; captures mean nothing to a filter, so every group is the same.</summary>
public sealed record RegexGroup(RegexNode Body) : RegexNode;

/// <summary>A quantifier; Max null means unbounded.</summary>
public sealed record RegexRepeat(RegexNode Body, int Min, int? Max) : RegexNode;

/// <summary>A whole pattern with its anchors.</summary>
public sealed record RegexPattern(RegexNode Body, bool AnchoredStart, bool AnchoredEnd) : RegexNode;

/// <summary>Renders a <see cref="RegexPattern"/> in RE2 syntax (KQL) or Lucene syntax (ES|QL RLIKE).</summary>
public static class RegexRenderer
{
    private const string LuceneSpecial = ".?+*|{}[]()\"\\#@&<>~";
    private const string Re2Special = ".?+*|{}[]()^$\\";

    /// <summary>RE2 for KQL's <c>matches regex</c>, which searches: <c>(?s)</c> makes <c>.</c> match newlines as Lucene's does.</summary>
    public static string ToRe2(RegexPattern pattern)
    {
        var sb = new StringBuilder("(?s)");
        if (pattern.AnchoredStart)
        {
            sb.Append('^');
        }
        Render(pattern.Body, sb, lucene: false);
        if (pattern.AnchoredEnd)
        {
            sb.Append('$');
        }
        return sb.ToString();
    }

    /// <summary>Lucene for ES|QL's <c>RLIKE</c>, which must match the whole string: unanchored ends get <c>.*</c>.</summary>
    public static string ToLucene(RegexPattern pattern)
    {
        var sb = new StringBuilder();
        if (!pattern.AnchoredStart)
        {
            sb.Append(".*");
        }
        var wrap = pattern.Body is RegexAlternation;
        if (wrap)
        {
            sb.Append('(');
        }
        Render(pattern.Body, sb, lucene: true);
        if (wrap)
        {
            sb.Append(')');
        }
        if (!pattern.AnchoredEnd)
        {
            sb.Append(".*");
        }
        return sb.ToString();
    }

    private static void Render(RegexNode node, StringBuilder sb, bool lucene)
    {
        switch (node)
        {
            case RegexChar c:
                AppendLiteral(c.Value, sb, lucene ? LuceneSpecial : Re2Special);
                break;
            case RegexAny:
                sb.Append('.');
                break;
            case RegexClass cls:
                sb.Append('[');
                if (cls.Negated)
                {
                    sb.Append('^');
                }
                foreach (var r in cls.Ranges)
                {
                    AppendClassChar(r.From, sb);
                    if (r.To != r.From)
                    {
                        sb.Append('-');
                        AppendClassChar(r.To, sb);
                    }
                }
                sb.Append(']');
                break;
            case RegexConcat cat:
                foreach (var item in cat.Items)
                {
                    Render(item, sb, lucene);
                }
                break;
            case RegexAlternation alt:
                for (var i = 0; i < alt.Options.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append('|');
                    }
                    Render(alt.Options[i], sb, lucene);
                }
                break;
            case RegexGroup g:
                sb.Append(lucene ? "(" : "(?:");
                Render(g.Body, sb, lucene);
                sb.Append(')');
                break;
            case RegexRepeat rep:
                var atomic = rep.Body is RegexChar or RegexAny or RegexClass or RegexGroup;
                if (!atomic)
                {
                    sb.Append(lucene ? "(" : "(?:");
                }
                Render(rep.Body, sb, lucene);
                if (!atomic)
                {
                    sb.Append(')');
                }
                sb.Append((rep.Min, rep.Max) switch
                {
                    (0, null) => "*",
                    (1, null) => "+",
                    (0, 1) => "?",
                    (var min, null) => $"{{{min},}}",
                    (var min, var max) when min == max => $"{{{min}}}",
                    (var min, var max) => $"{{{min},{max}}}",
                });
                break;
            default:
                throw new InvalidOperationException("unexpected regex node " + node.GetType().Name);
        }
    }

    private static void AppendLiteral(char c, StringBuilder sb, string special)
    {
        if (special.Contains(c, StringComparison.Ordinal))
        {
            sb.Append('\\').Append(c);
        }
        else
        {
            sb.Append(c);
        }
    }

    private static void AppendClassChar(char c, StringBuilder sb)
    {
        if (c is ']' or '\\' or '^' or '-' or '[' or '"')
        {
            sb.Append('\\');
        }
        sb.Append(c);
    }
}
