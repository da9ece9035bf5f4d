using System.Globalization;
using System.Text;

namespace KeyAbuseContent.Targets.Kql;

/// <summary>
/// Renders KQL syntax trees to text. Escaping of names and literals happens here and nowhere else,
/// and parentheses follow KQL's precedence, so a value from a rule cannot change a query's shape.
/// </summary>
public static class KqlRenderer
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "not", "in", "has", "let", "where", "extend", "project", "summarize", "by", "on", "kind", "join",
        "lookup", "union", "take", "limit", "sort", "order", "top", "asc", "desc", "true", "false", "null", "between",
        "contains", "startswith", "endswith", "matches", "regex", "datatable", "print", "range", "with", "materialize",
        "count", "distinct", "as", "to", "step", "from", "of", "typeof", "set", "declare", "pattern", "restrict",
        "access", "alias", "toscalar", "totable", "evaluate", "parse", "invoke", "render", "search", "find", "mv-expand",
        "bool", "boolean", "int", "long", "real", "double", "string", "datetime", "date", "timespan", "time", "dynamic", "decimal", "guid",
    };

    /// <summary>The query text, one operator a line.</summary>
    public static string Render(KqlQuery query)
    {
        var sb = new StringBuilder();
        foreach (var let in query.Lets)
        {
            sb.Append("let ").Append(Name(let.Name)).Append(" = ");
            if (let.Tabular is not null)
            {
                if (let.Materialize)
                {
                    sb.Append("materialize(");
                    Tabular(let.Tabular, sb, "    ");
                    sb.Append(')');
                }
                else
                {
                    Tabular(let.Tabular, sb, "    ");
                }
            }
            else
            {
                sb.Append(Expr(let.Scalar!));
            }
            sb.Append(";\n");
        }
        Tabular(query.Body, sb, "");
        return sb.ToString();
    }

    /// <summary>A tabular expression on its own, for parser functions and summary rules.</summary>
    public static string Render(KqlTabular tabular)
    {
        var sb = new StringBuilder();
        Tabular(tabular, sb, "");
        return sb.ToString();
    }

    private static void Tabular(KqlTabular tabular, StringBuilder sb, string indent)
    {
        sb.Append(tabular.Source switch
        {
            KqlTableSource t => Name(t.Name),
            KqlFunctionSource f => $"{Name(f.Name)}({string.Join(", ", f.Args.Select(Expr))})",
            _ => throw new InvalidOperationException("unknown KQL source"),
        });
        foreach (var op in tabular.Operators)
        {
            sb.Append('\n').Append(indent).Append("| ");
            Operator(op, sb, indent);
        }
    }

    private static void Operator(KqlOperator op, StringBuilder sb, string indent)
    {
        switch (op)
        {
            case KqlWhere w:
                sb.Append("where ").Append(Expr(w.Predicate));
                break;
            case KqlExtend e:
                sb.Append("extend ").Append(Assignments(e.Columns));
                break;
            case KqlProject p:
                sb.Append("project ").Append(Assignments(p.Columns));
                break;
            case KqlProjectAway pa:
                sb.Append("project-away ").Append(string.Join(", ", pa.Columns.Select(Name)));
                break;
            case KqlSummarize s:
                sb.Append("summarize ").Append(Assignments(s.Aggregates));
                if (s.By.Length > 0)
                {
                    sb.Append(" by ").Append(Assignments(s.By));
                }
                break;
            case KqlJoin j:
                sb.Append("join kind=").Append(j.Kind).Append(" (\n").Append(indent).Append("    ");
                Tabular(j.Right, sb, indent + "    ");
                sb.Append('\n').Append(indent).Append("    ) on ").Append(JoinKeys(j.On));
                break;
            case KqlLookup l:
                sb.Append("lookup kind=").Append(l.Kind).Append(" (\n").Append(indent).Append("    ");
                Tabular(l.Right, sb, indent + "    ");
                sb.Append('\n').Append(indent).Append("    ) on ").Append(JoinKeys(l.On));
                break;
            case KqlIpv4Lookup g:
                sb.Append("evaluate ipv4_lookup(").Append(Name(g.Lookup)).Append(", ").Append(Name(g.SourceKey)).Append(", ").Append(Name(g.LookupKey))
                    .Append(", return_unmatched = ").Append(g.ReturnUnmatched ? "true" : "false").Append(')');
                break;
            case KqlIpv6Lookup g:
                sb.Append("evaluate ipv6_lookup(").Append(Name(g.Lookup)).Append(", ").Append(Name(g.SourceKey)).Append(", ").Append(Name(g.LookupKey))
                    .Append(", return_unmatched = ").Append(g.ReturnUnmatched ? "true" : "false").Append(')');
                break;
            case KqlSort s:
                sb.Append("sort by ").Append(string.Join(", ", s.Keys.Select(k => Expr(k.Expr) + (k.Descending ? " desc" : " asc"))));
                break;
            case KqlTake t:
                sb.Append("take ").Append(t.Count.ToString(CultureInfo.InvariantCulture));
                break;
            case KqlMvExpand m:
                sb.Append("mv-expand ").Append(Name(m.Column));
                if (m.Type is not null)
                {
                    sb.Append(" to typeof(").Append(m.Type).Append(')');
                }
                break;
            case KqlUnion u:
                sb.Append("union ").Append(string.Join(", ", u.Tables.Select(Name)));
                break;
            case KqlDistinct d:
                sb.Append("distinct ").Append(string.Join(", ", d.Columns.Select(Name)));
                break;
            default:
                throw new InvalidOperationException("unknown KQL operator " + op.GetType().Name);
        }
    }

    private static string JoinKeys(IEnumerable<KqlJoinKey> keys) =>
        string.Join(", ", keys.Select(k => k.Left == k.Right ? Name(k.Left) : $"$left.{Name(k.Left)} == $right.{Name(k.Right)}"));

    private static string Assignments(IEnumerable<KqlAssign> columns) =>
        string.Join(", ", columns.Select(c => c.Name is null ? Expr(c.Value) : $"{Name(c.Name)} = {Expr(c.Value)}"));

    /// <summary>A name as KQL reads it: bare when it is an identifier and not a keyword, else <c>['...']</c>.</summary>
    public static string Name(string name)
    {
        var plain = name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
            && !Keywords.Contains(name);
        return plain ? name : "['" + Escapes.Backslash(name, '\'', "KQL") + "']";
    }

    /// <summary>A string literal, double-quoted, with KQL's escapes.</summary>
    public static string StringLiteral(string value) => "\"" + Escapes.Backslash(value, '"', "KQL") + "\"";


    private static int Precedence(KqlExpr e) => e switch
    {
        KqlBinary { Op: "or" } => 1,
        KqlBinary { Op: "and" } => 2,
        KqlBinary { Op: "+" or "-" } => 4,
        KqlBinary { Op: "*" or "/" or "%" } => 5,
        KqlBinary or KqlIn => 3,
        KqlNegate => 6,
        _ => 7,
    };

    /// <summary>A scalar expression's text.</summary>
    public static string Expr(KqlExpr e)
    {
        switch (e)
        {
            case KqlName n:
                return Name(n.Name);
            case KqlLiteral l:
                return Literal(l);
            case KqlRegexLiteral r:
                return "@\"" + r.Pattern.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            case KqlBinary b:
                {
                    var p = Precedence(b);
                    // Comparisons do not chain; arithmetic and logic associate to the left.
                    var chains = p != 3;
                    var left = Wrap(b.Left, p, strict: !chains);
                    var right = Wrap(b.Right, p, strict: true);
                    return $"{left} {b.Op} {right}";
                }
            case KqlIn i:
                return $"{Wrap(i.Value, 3, strict: true)} {i.Op} ({string.Join(", ", i.Items.Select(Expr))})";
            case KqlCall c:
                return $"{c.Function}({string.Join(", ", c.Args.Select(Expr))})";
            case KqlNegate neg:
                return "-" + Wrap(neg.Operand, 6, strict: true);
            case KqlSubquery q:
                return Render(q.Tabular).Replace("\n", " ", StringComparison.Ordinal);
            case KqlMember m:
                var plain = m.Member.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && m.Member.Length > 0 && !char.IsAsciiDigit(m.Member[0]);
                return plain ? $"{Wrap(m.Target, 7, strict: false)}.{m.Member}" : $"{Wrap(m.Target, 7, strict: false)}[{StringLiteral(m.Member)}]";
            default:
                throw new InvalidOperationException("unknown KQL expression " + e.GetType().Name);
        }
    }

    private static string Wrap(KqlExpr child, int parent, bool strict)
    {
        var p = Precedence(child);
        var text = Expr(child);
        return p < parent || (strict && p == parent) ? "(" + text + ")" : text;
    }

    private static string Literal(KqlLiteral l) => l.Kind switch
    {
        KqlLiteralKind.String => StringLiteral((string)l.Value!),
        KqlLiteralKind.Long => ((long)l.Value!).ToString(CultureInfo.InvariantCulture),
        KqlLiteralKind.Real => Real((double)l.Value!),
        KqlLiteralKind.Bool => (bool)l.Value! ? "true" : "false",
        KqlLiteralKind.DateTime => $"datetime({((DateTimeOffset)l.Value!).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture)})",
        KqlLiteralKind.TimeSpan => Span((TimeSpan)l.Value!),
        KqlLiteralKind.NullLong => "long(null)",
        KqlLiteralKind.NullReal => "real(null)",
        KqlLiteralKind.NullString => "\"\"",
        KqlLiteralKind.NullDateTime => "datetime(null)",
        _ => throw new InvalidOperationException("unknown literal kind"),
    };

    private static string Real(double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d))
        {
            throw new ArgumentException("KQL literals cannot be NaN or infinite", nameof(d));
        }
        var text = d.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? $"real({text})" : $"real({text}.0)";
    }

    /// <summary>A timespan literal in KQL's shortest unit form: <c>5m</c>, <c>1h</c>, <c>30d</c>, <c>90s</c>.</summary>
    public static string Span(TimeSpan span)
    {
        if (span.Ticks % TimeSpan.TicksPerDay == 0)
        {
            return $"{span.Ticks / TimeSpan.TicksPerDay}d";
        }
        if (span.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return $"{span.Ticks / TimeSpan.TicksPerHour}h";
        }
        if (span.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return $"{span.Ticks / TimeSpan.TicksPerMinute}m";
        }
        if (span.Ticks % TimeSpan.TicksPerSecond == 0)
        {
            return $"{span.Ticks / TimeSpan.TicksPerSecond}s";
        }
        return $"{span.Ticks}tick";
    }
}
