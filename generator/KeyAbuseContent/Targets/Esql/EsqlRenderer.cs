using System.Globalization;
using System.Text;

namespace KeyAbuseContent.Targets.Esql;

/// <summary>A rendered ES|QL query and the stack version its constructs need.</summary>
public sealed record EsqlText(string Text, Version MinimumVersion, IReadOnlyList<string> Gates);

/// <summary>
/// Renders ES|QL syntax trees to text. Escaping of names and literals happens here and nowhere else,
/// parentheses follow ES|QL's precedence, and every gated construct is recorded with its version.
/// </summary>
public sealed class EsqlRenderer
{
    private static readonly HashSet<string> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "and", "or", "not", "in", "is", "null", "true", "false", "like", "rlike", "by", "as", "on", "asc", "desc",
        "nulls", "first", "last", "with", "metadata", "from", "where", "eval", "stats", "keep", "drop", "rename",
        "sort", "limit", "lookup", "join", "enrich", "dissect", "grok", "row", "show", "mv_expand", "inline",
    };

    private Version _minimum = EsqlCapabilities.Baseline;
    private readonly List<string> _gates = [];

    private EsqlRenderer()
    {
    }

    /// <summary>The query text, one command a line, and the version it needs.</summary>
    public static EsqlText Render(EsqlQuery query)
    {
        var r = new EsqlRenderer();
        var lines = query.Commands.Select(r.Command).ToList();
        var sb = new StringBuilder(lines[0]);
        foreach (var line in lines.Skip(1))
        {
            sb.Append("\n| ").Append(line);
        }
        return new EsqlText(sb.ToString(), r._minimum, r._gates);
    }

    /// <summary>One expression's text, for tests and the operator table.</summary>
    public static string RenderExpr(EsqlExpr e) => new EsqlRenderer().Expr(e);

    private void Need((Version Version, string Why) gate)
    {
        if (gate.Version > EsqlCapabilities.Baseline && !_gates.Contains(gate.Why))
        {
            _gates.Add(gate.Why);
        }
        if (gate.Version > _minimum)
        {
            _minimum = gate.Version;
        }
    }

    private string Command(EsqlCommand c)
    {
        switch (c)
        {
            case EsqlFrom f:
                var from = "FROM " + string.Join(", ", f.Indices.Select(IndexName));
                if (f.Metadata.Length > 0)
                {
                    Need(EsqlCapabilities.Command("FROM METADATA"));
                    from += " METADATA " + string.Join(", ", f.Metadata);
                }
                return from;
            case EsqlWhere w:
                return "WHERE " + Expr(w.Predicate);
            case EsqlEval e:
                return "EVAL " + Assignments(e.Columns);
            case EsqlStats s:
                var keyword = "STATS";
                if (s.Inline)
                {
                    Need(EsqlCapabilities.Command("INLINE STATS"));
                    keyword = "INLINE STATS";
                }
                var stats = keyword + " " + Assignments(s.Aggregates);
                return s.By.Length > 0 ? stats + " BY " + Assignments(s.By) : stats;
            case EsqlKeep k:
                return "KEEP " + string.Join(", ", k.Columns.Select(Name));
            case EsqlDrop d:
                return "DROP " + string.Join(", ", d.Columns.Select(Name));
            case EsqlRename r:
                return "RENAME " + string.Join(", ", r.Columns.Select(x => $"{Name(x.From)} AS {Name(x.To)}"));
            case EsqlSort s:
                return "SORT " + string.Join(", ", s.Keys.Select(k => Expr(k.Expr) + (k.Descending ? " DESC" : " ASC")));
            case EsqlLimit l:
                return "LIMIT " + l.Count.ToString(CultureInfo.InvariantCulture);
            case EsqlLookupJoin j:
                Need(EsqlCapabilities.Command("LOOKUP JOIN"));
                return $"LOOKUP JOIN {IndexName(j.Index)} ON {string.Join(", ", j.On.Select(Name))}";
            case EsqlMvExpand m:
                Need(EsqlCapabilities.Command("MV_EXPAND"));
                return "MV_EXPAND " + Name(m.Column);
            default:
                throw new InvalidOperationException("unknown ES|QL command " + c.GetType().Name);
        }
    }

    private string Assignments(IEnumerable<EsqlAssign> columns) =>
        string.Join(", ", columns.Select(c => c.Name is null ? Expr(c.Value) : $"{Name(c.Name)} = {Expr(c.Value)}"));

    private static string IndexName(string index)
    {
        if (index.Length == 0 || index.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '*' or ':')))
        {
            throw new ArgumentException($"'{index}' is not an index pattern the generator writes", nameof(index));
        }
        return index;
    }

    /// <summary>A field name as ES|QL reads it: bare when it is a dotted identifier, else in backticks.</summary>
    public static string Name(string name)
    {
        var parts = name.Split('.');
        var plain = parts.All(p => p.Length > 0 && (char.IsAsciiLetter(p[0]) || p[0] is '_' or '@') && p.Skip(1).All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            && !Keywords.Contains(name);
        return plain ? name : "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";
    }

    /// <summary>A string literal, double-quoted, with ES|QL's escapes.</summary>
    public static string StringLiteral(string value) => "\"" + Escapes.Backslash(value, '"', "ES|QL") + "\"";

    private static int Precedence(EsqlExpr e) => e switch
    {
        EsqlBinary { Op: "OR" } => 1,
        EsqlBinary { Op: "AND" } => 2,
        EsqlNot => 3,
        EsqlBinary { Op: "+" or "-" } => 5,
        EsqlBinary { Op: "*" or "/" or "%" } => 6,
        EsqlBinary or EsqlIn or EsqlIsNull => 4,
        EsqlNegate => 7,
        _ => 8,
    };

    private string Expr(EsqlExpr e)
    {
        switch (e)
        {
            case EsqlField f:
                return Name(f.Name);
            case EsqlLiteral l:
                return Literal(l);
            case EsqlPattern p:
                if (p.Pattern.Contains("\"\"\"", StringComparison.Ordinal) || p.Pattern.EndsWith('"'))
                {
                    return StringLiteral(p.Pattern);
                }
                return "\"\"\"" + p.Pattern + "\"\"\"";
            case EsqlStar:
                return "*";
            case EsqlBinary b:
                {
                    var p = Precedence(b);
                    var chains = p != 4;
                    return $"{Wrap(b.Left, p, !chains)} {b.Op} {Wrap(b.Right, p, true)}";
                }
            case EsqlIn i:
                return $"{Wrap(i.Value, 4, true)} {(i.Negated ? "NOT IN" : "IN")} ({string.Join(", ", i.Items.Select(Expr))})";
            case EsqlNot n:
                return "NOT " + Wrap(n.Operand, 3, false);
            case EsqlNegate neg:
                return "-" + Wrap(neg.Operand, 7, true);
            case EsqlIsNull isNull:
                return $"{Wrap(isNull.Operand, 4, true)} {(isNull.Negated ? "IS NOT NULL" : "IS NULL")}";
            case EsqlCall c:
                Need(EsqlCapabilities.Function(c.Function));
                return $"{c.Function}({string.Join(", ", c.Args.Select(Expr))})";
            default:
                throw new InvalidOperationException("unknown ES|QL expression " + e.GetType().Name);
        }
    }

    private string Wrap(EsqlExpr child, int parent, bool strict)
    {
        var p = Precedence(child);
        var text = Expr(child);
        return p < parent || (strict && p == parent) ? "(" + text + ")" : text;
    }

    private string Literal(EsqlLiteral l)
    {
        switch (l.Kind)
        {
            case EsqlLiteralKind.String:
                return StringLiteral((string)l.Value!);
            case EsqlLiteralKind.Long:
                return ((long)l.Value!).ToString(CultureInfo.InvariantCulture);
            case EsqlLiteralKind.Double:
                var d = (double)l.Value!;
                if (double.IsNaN(d) || double.IsInfinity(d))
                {
                    throw new ArgumentException("ES|QL literals cannot be NaN or infinite");
                }
                var text = d.ToString("R", CultureInfo.InvariantCulture);
                return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0";
            case EsqlLiteralKind.Bool:
                return (bool)l.Value! ? "true" : "false";
            case EsqlLiteralKind.Null:
                return "null";
            case EsqlLiteralKind.DateTime:
                Need(EsqlCapabilities.Command("::"));
                return StringLiteral(((DateTimeOffset)l.Value!).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)) + "::datetime";
            case EsqlLiteralKind.Duration:
                return Duration((TimeSpan)l.Value!);
            default:
                throw new InvalidOperationException("unknown literal kind");
        }
    }

    /// <summary>A time-duration literal: <c>5 minutes</c>, <c>1 hour</c>, <c>30 days</c>.</summary>
    public static string Duration(TimeSpan span)
    {
        static string Unit(long n, string unit) => n == 1 ? $"1 {unit}" : $"{n} {unit}s";
        if (span.Ticks % TimeSpan.TicksPerDay == 0)
        {
            return Unit(span.Ticks / TimeSpan.TicksPerDay, "day");
        }
        if (span.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return Unit(span.Ticks / TimeSpan.TicksPerHour, "hour");
        }
        if (span.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return Unit(span.Ticks / TimeSpan.TicksPerMinute, "minute");
        }
        return Unit(span.Ticks / TimeSpan.TicksPerSecond, "second");
    }
}
