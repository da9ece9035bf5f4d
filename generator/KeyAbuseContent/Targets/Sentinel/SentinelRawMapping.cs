using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Targets.Sentinel;

/// <summary>
/// Renders the raw-source mapping language (<see cref="RawValue"/>) as KQL over a raw source's Sentinel table: a
/// record path becomes the column that holds it (with member access into a dynamic column), typed as the
/// normalized field is; a field the source does not fill is a typed empty value.
/// </summary>
public static class SentinelRawMapping
{
    public static KqlExpr Value(RawSource raw, SourceField field)
    {
        var value = raw.Map(field.Name);
        var type = field.Type;
        return value switch
        {
            null => Empty(type),
            RawConst c => Constant(c.Value, type),
            RawPath p when p.Default is { } d => type is ExprType.String or ExprType.Ip
                ? KqlNodes.Call("iff", KqlNodes.Call("isempty", Text(raw, p.Path)), KqlLiteral.Str(d), Text(raw, p.Path))
                : KqlNodes.Call("coalesce", Typed(raw, p.Path, type), Constant(d, type)),
            RawPath p => Typed(raw, p.Path, type),
            RawLookup l => Convert(Lookup(raw, l), "string", type),
            RawFirst f => Convert(First(raw, f), "string", type),
            RawMaskedAddress m => Convert(Unmasked(raw, m), "string", type),
            _ => throw new InvalidOperationException("unknown raw value " + value.GetType().Name),
        };
    }

    /// <summary>A constant as a literal of the field's type.</summary>
    private static KqlExpr Constant(string text, ExprType type) => type switch
    {
        ExprType.Long => KqlLiteral.Long(long.Parse(text, System.Globalization.CultureInfo.InvariantCulture)),
        ExprType.Real => KqlLiteral.Real(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture)),
        ExprType.Bool => KqlLiteral.Bool(bool.Parse(text)),
        _ => KqlLiteral.Str(text),
    };

    /// <summary>A typed empty value: Log Analytics strings are never null, other types are.</summary>
    public static KqlExpr Empty(ExprType type) => type switch
    {
        ExprType.Long => new KqlLiteral(KqlLiteralKind.NullLong, null),
        ExprType.Real => new KqlLiteral(KqlLiteralKind.NullReal, null),
        ExprType.DateTime => new KqlLiteral(KqlLiteralKind.NullDateTime, null),
        _ => new KqlLiteral(KqlLiteralKind.NullString, null),
    };

    /// <summary>A record path read as the field's type: converted unless its column already has that type.</summary>
    private static KqlExpr Typed(RawSource raw, string path, ExprType type)
    {
        var (e, columnType) = PathTyped(raw, path);
        return Convert(e, columnType, type);
    }

    private static KqlExpr Convert(KqlExpr e, string from, ExprType type) => (type, from) switch
    {
        // An int column is converted too: a view's union of int and long columns would split them into HttpStatusCode_int and _long.
        (ExprType.Long, "long") or (ExprType.Real, "real") or (ExprType.DateTime, "datetime") or (ExprType.Bool, "bool") => e,
        (ExprType.String or ExprType.Ip, "string") => e,
        (ExprType.Long, _) => KqlNodes.Call("tolong", e),
        (ExprType.Real, _) => KqlNodes.Call("todouble", e),
        (ExprType.DateTime, _) => KqlNodes.Call("todatetime", e),
        (ExprType.Bool, _) => KqlNodes.Call("tobool", e),
        _ => KqlNodes.Call("tostring", e),
    };

    private static KqlExpr Text(RawSource raw, string path) => Typed(raw, path, ExprType.String);

    public static KqlExpr Path(RawSource raw, string path) => PathTyped(raw, path).Expr;

    /// <summary><c>replace_string(a, "***", "0")</c>: a masked last octet read as the network's address.</summary>
    private static KqlExpr Unmasked(RawSource raw, RawMaskedAddress m) =>
        KqlNodes.Call("replace_string", Text(raw, m.Path), KqlLiteral.Str(RawMaskedAddress.Mask), KqlLiteral.Str("0"));

    /// <summary>
    /// The columns a parser's mapping reads: the source's own, and those of its join's table as the join names them
    /// (<c>&lt;Prefix&gt;&lt;Column&gt;</c>, holding <c>&lt;Prefix&gt;.&lt;path&gt;</c>).
    /// </summary>
    public static IEnumerable<RawColumn> ViewColumns(RawSource raw) => raw.Join is { } join
        ? raw.Columns.Concat(JoinedColumns(join))
        : raw.Columns;

    /// <summary>The joined table's columns as the parser's join projects them (the join key left out).</summary>
    public static IEnumerable<RawColumn> JoinedColumns(RawJoin join) =>
        join.Table.Columns.Where(c => c.Column != join.On)
            .Select(c => c with { Column = join.Prefix + c.Column, Path = join.Prefix + "." + c.Path });

    /// <summary>The column holding a record path: an exact column, or the column of its longest prefix and members below it.</summary>
    private static (KqlExpr Expr, string Type) PathTyped(RawSource raw, string path)
    {
        var column = ViewColumns(raw).Where(c => RawPaths.StartsWith(path, c.Path))
            .OrderByDescending(c => RawPaths.Segments(c.Path).Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"raw source {raw.Name}: no column holds '{path}'");
        KqlExpr e = column.NotInReference
            ? KqlNodes.Call("column_ifexists", KqlLiteral.Str(column.Column), KqlLiteral.Str(""))
            : KqlNodes.Col(column.Column);
        if (column.JsonText && RawPaths.Segments(path).Length > RawPaths.Segments(column.Path).Length)
        {
            e = KqlNodes.Call("parse_json", e);
        }
        var below = RawPaths.Segments(path).Skip(RawPaths.Segments(column.Path).Length).ToList();
        if (below.Count > 0)
        {
            foreach (var member in below)
            {
                e = new KqlMember(e, member);
            }
            return (e, "dynamic");
        }
        return (e, column.KqlType);
    }

    /// <summary>The value's text: the first path that is not empty, else the last value (<c>case(isnotempty(a), a, ..., last)</c>).</summary>
    private static KqlExpr First(RawSource raw, RawFirst f)
    {
        var args = new List<KqlExpr>();
        foreach (var value in f.Values[..^1])
        {
            var text = Text(raw, ((RawPath)value).Path);
            args.Add(KqlNodes.Call("isnotempty", text));
            args.Add(text);
        }
        var last = f.Values[^1] switch
        {
            RawPath { Default: { } d } p => KqlNodes.Call("iff", KqlNodes.Call("isempty", Text(raw, p.Path)), KqlLiteral.Str(d), Text(raw, p.Path)),
            RawPath p => Text(raw, p.Path),
            RawLookup l => Lookup(raw, l),
            RawConst c => KqlLiteral.Str(c.Value),
            var other => throw new InvalidOperationException("a RawFirst ends with a path, a lookup or a constant, not " + other.GetType().Name),
        };
        args.Add(last);
        return new KqlCall("case", [.. args]);
    }

    /// <summary><c>case(isempty(v), missing, v == from, to, ..., otherwise)</c> over the value's text.</summary>
    private static KqlExpr Lookup(RawSource raw, RawLookup l)
    {
        var v = Text(raw, l.Path);
        var args = new List<KqlExpr> { KqlNodes.Call("isempty", v), l.WhenMissing is { } m ? KqlLiteral.Str(m) : v };
        foreach (var (from, to) in l.Table)
        {
            args.Add(KqlNodes.Op("==", v, KqlLiteral.Str(from)));
            args.Add(KqlLiteral.Str(to));
        }
        args.Add(l.Otherwise is { } o ? KqlLiteral.Str(o) : v);
        return new KqlCall("case", [.. args]);
    }
}
