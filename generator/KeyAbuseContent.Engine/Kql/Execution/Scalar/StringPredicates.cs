using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>
/// The string operators. Case-insensitive ones compare ordinally ignoring case. <c>has</c> and its kin match whole
/// terms: a term is a maximal run of letters and digits, and the needle must start and end on term boundaries
/// where it starts or ends with a letter or digit (Kusto only indexes terms of three or more characters, but
/// shorter needles still match by scanning, as here).
/// </summary>
internal static class StringPredicates
{
    public static bool IsKnown(string op) => op.TrimStart('!') is "has" or "has_cs" or "hasprefix" or "hasprefix_cs" or "hassuffix" or "hassuffix_cs"
        or "contains" or "contains_cs" or "startswith" or "startswith_cs" or "endswith" or "endswith_cs" or "=~" or "~";

    /// <summary>The operator applied to <paramref name="text"/> and <paramref name="needle"/>; a leading '!' negates.</summary>
    public static bool Test(string op, string text, string needle)
    {
        if (op == "!~")
        {
            return !string.Equals(text, needle, StringComparison.OrdinalIgnoreCase);
        }
        if (op.StartsWith('!'))
        {
            return !Test(op[1..], text, needle);
        }
        return op switch
        {
            "=~" => string.Equals(text, needle, StringComparison.OrdinalIgnoreCase),
            "has" => Term(text, needle, StringComparison.OrdinalIgnoreCase, start: true, end: true),
            "has_cs" => Term(text, needle, StringComparison.Ordinal, start: true, end: true),
            "hasprefix" => Term(text, needle, StringComparison.OrdinalIgnoreCase, start: true, end: false),
            "hasprefix_cs" => Term(text, needle, StringComparison.Ordinal, start: true, end: false),
            "hassuffix" => Term(text, needle, StringComparison.OrdinalIgnoreCase, start: false, end: true),
            "hassuffix_cs" => Term(text, needle, StringComparison.Ordinal, start: false, end: true),
            "contains" => text.Contains(needle, StringComparison.OrdinalIgnoreCase),
            "contains_cs" => text.Contains(needle, StringComparison.Ordinal),
            "startswith" => text.StartsWith(needle, StringComparison.OrdinalIgnoreCase),
            "startswith_cs" => text.StartsWith(needle, StringComparison.Ordinal),
            "endswith" => text.EndsWith(needle, StringComparison.OrdinalIgnoreCase),
            "endswith_cs" => text.EndsWith(needle, StringComparison.Ordinal),
            _ => throw new InvalidOperationException($"unknown string operator {op}"),
        };
    }

    /// <summary>Whether <paramref name="needle"/> occurs in <paramref name="text"/> on term boundaries.</summary>
    public static bool Term(string text, string needle, StringComparison comparison, bool start, bool end)
    {
        if (needle.Length == 0)
        {
            return true;
        }
        var checkStart = start && IsTermChar(needle[0]);
        var checkEnd = end && IsTermChar(needle[^1]);
        var from = 0;
        while (from <= text.Length - needle.Length)
        {
            var at = text.IndexOf(needle, from, comparison);
            if (at < 0)
            {
                return false;
            }
            var startOk = !checkStart || at == 0 || !IsTermChar(text[at - 1]);
            var after = at + needle.Length;
            var endOk = !checkEnd || after == text.Length || !IsTermChar(text[after]);
            if (startOk && endOk)
            {
                return true;
            }
            from = at + 1;
        }
        return false;
    }

    private static bool IsTermChar(char c) => char.IsLetterOrDigit(c);
}

/// <summary>A string operator over a column, the needle usually constant.</summary>
internal sealed class StringPredicateNode : ScalarNode
{
    private readonly string _op;
    private readonly ScalarNode _left;
    private readonly ScalarNode _right;

    public StringPredicateNode(string op, ScalarNode left, ScalarNode right)
        : base(KqlType.Bool)
    {
        _op = op;
        _left = left;
        _right = right;
    }

    public override IEnumerable<ScalarNode> Children => [_left, _right];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var left = _left.Evaluate(input, context);
        var right = _right.Evaluate(input, context);
        if (left is ConstantColumn lc && right is ConstantColumn rc)
        {
            return new ConstantColumn(KqlType.Bool, StringPredicates.Test(_op, Scalars.ToKqlString(lc.Value), Scalars.ToKqlString(rc.Value)), n);
        }
        var texts = ColumnViews.Strings(left);
        var result = new bool[n];
        if (right is ConstantColumn c)
        {
            var needle = Scalars.ToKqlString(c.Value);
            for (var i = 0; i < n; i++)
            {
                result[i] = StringPredicates.Test(_op, texts[i], needle);
            }
        }
        else
        {
            var needles = ColumnViews.Strings(right);
            for (var i = 0; i < n; i++)
            {
                result[i] = StringPredicates.Test(_op, texts[i], needles[i]);
            }
        }
        return ColumnViews.BoolColumn(result, null);
    }
}

/// <summary><c>matches regex</c>; a constant pattern is compiled once.</summary>
internal sealed class RegexMatchNode : ScalarNode
{
    private readonly ScalarNode _left;
    private readonly ScalarNode _pattern;
    private readonly Regex? _constant;

    public RegexMatchNode(ScalarNode left, ScalarNode pattern, Regex? constant)
        : base(KqlType.Bool)
    {
        _left = left;
        _pattern = pattern;
        _constant = constant;
    }

    public override IEnumerable<ScalarNode> Children => [_left, _pattern];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var texts = ColumnViews.Strings(_left.Evaluate(input, context));
        var result = new bool[n];
        if (_constant is { } regex)
        {
            for (var i = 0; i < n; i++)
            {
                result[i] = regex.IsMatch(texts[i]);
            }
            return ColumnViews.BoolColumn(result, null);
        }
        var patterns = ColumnViews.Strings(_pattern.Evaluate(input, context));
        for (var i = 0; i < n; i++)
        {
            result[i] = Regexes.Get(patterns[i]).IsMatch(texts[i]);
        }
        return ColumnViews.BoolColumn(result, null);
    }
}

/// <summary>Regular expressions, compiled with .NET's engine (close to RE2 for the patterns detection rules use).</summary>
internal static class Regexes
{
    public static Regex Get(string pattern) => new(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(5));
}
