using KeyAbuseContent.Expressions;
using KeyAbuseContent.Expressions.Regex;

namespace KeyAbuseContent.Targets.Kql;

/// <summary>
/// Translates bound rule expressions to KQL syntax trees. KQL's semantics are the language's reference:
/// a missing string is empty, a null compared with a value is unequal to it.
/// </summary>
public static class KqlExpressionEmitter
{
    public static KqlExpr Emit(Bound b) => b switch
    {
        BoundField f => new KqlName(f.Field.KqlName),
        BoundLiteral l => Literal(l),
        BoundCompare c => Compare(c),
        BoundArithmetic a => Arithmetic(a),
        BoundNegate n => new KqlNegate(Emit(n.Operand)),
        BoundLogical l => KqlNodes.Op(l.IsAnd ? "and" : "or", Emit(l.Left), Emit(l.Right)),
        BoundNot n => KqlNodes.Call("not", Emit(n.Operand)),
        BoundIn i => new KqlIn(Emit(i.Value), (i.Negated ? "!in" : "in") + (i.IgnoreCase ? "~" : ""), [.. i.Items.Select(Literal)]),
        BoundStringTest s => StringTest(s),
        BoundMatches m => Matches(m),
        BoundCall c => Call(c),
        BoundNow => KqlNodes.Call("now"),
        BoundAggregate a => Aggregate(a),
        _ => throw new InvalidOperationException("cannot emit " + b.GetType().Name),
    };

    private static KqlExpr Literal(BoundLiteral l) => l.Type switch
    {
        ExprType.String or ExprType.Ip => KqlLiteral.Str((string)l.Value!),
        ExprType.Long => KqlLiteral.Long((long)l.Value!),
        ExprType.Real => KqlLiteral.Real(Convert.ToDouble(l.Value, System.Globalization.CultureInfo.InvariantCulture)),
        ExprType.Bool => KqlLiteral.Bool((bool)l.Value!),
        ExprType.TimeSpan => KqlLiteral.Span((TimeSpan)l.Value!),
        _ => throw new InvalidOperationException("no KQL literal for " + l.Type),
    };

    private static KqlExpr Compare(BoundCompare c)
    {
        if (c.Left.Type == ExprType.String && c.Right is BoundLiteral { Value: "" } && c.Op is CompareOp.Equal or CompareOp.NotEqual)
        {
            return KqlNodes.Call(c.Op == CompareOp.Equal ? "isempty" : "isnotempty", Emit(c.Left));
        }
        var op = c.Op switch
        {
            CompareOp.Equal => "==",
            CompareOp.NotEqual => "!=",
            CompareOp.EqualIgnoreCase => "=~",
            CompareOp.NotEqualIgnoreCase => "!~",
            CompareOp.Less => "<",
            CompareOp.LessOrEqual => "<=",
            CompareOp.Greater => ">",
            _ => ">=",
        };
        return KqlNodes.Op(op, Emit(c.Left), Emit(c.Right));
    }

    private static KqlExpr Arithmetic(BoundArithmetic a)
    {
        var left = Emit(a.Left);
        var right = Emit(a.Right);
        if (a.Op != BinaryOp.Divide)
        {
            return KqlNodes.Op(a.Op switch { BinaryOp.Add => "+", BinaryOp.Subtract => "-", _ => "*" }, left, right);
        }
        // Real division, and null (not infinity) on a zero divisor, as ES|QL gives.
        var division = KqlNodes.Op("/", KqlNodes.Call("todouble", left), right);
        if (a.Right is BoundLiteral { Value: long l } && l != 0 || a.Right is BoundLiteral { Value: double d } && d != 0)
        {
            return division;
        }
        return KqlNodes.Call("iff", KqlNodes.Op("==", right, KqlLiteral.Long(0)), new KqlLiteral(KqlLiteralKind.NullReal, null), division);
    }

    private static KqlExpr StringTest(BoundStringTest s)
    {
        var op = s.Op switch
        {
            StringOp.StartsWith => "startswith_cs",
            StringOp.EndsWith => "endswith_cs",
            _ => "contains",
        };
        return KqlNodes.Op(s.Negated ? "!" + op : op, Emit(s.Value), KqlLiteral.Str(s.Literal));
    }

    private static KqlExpr Matches(BoundMatches m)
    {
        var test = KqlNodes.Op("matches regex", Emit(m.Value), new KqlRegexLiteral(RegexRenderer.ToRe2(m.Pattern)));
        return m.Negated ? KqlNodes.Call("not", test) : test;
    }

    private static KqlExpr Call(BoundCall c)
    {
        var args = c.Args.Select(Emit).ToArray();
        switch (c.Function)
        {
            case "isempty" or "isnotempty":
                var empty = c.Function == "isempty";
                return c.Args[0].Type switch
                {
                    ExprType.String or ExprType.Ip => KqlNodes.Call(c.Function, args[0]),
                    ExprType.StringList => empty
                        ? KqlNodes.Op("or", KqlNodes.Call("isnull", args[0]), KqlNodes.Op("==", KqlNodes.Call("array_length", args[0]), KqlLiteral.Long(0)))
                        : KqlNodes.Op(">", KqlNodes.Call("array_length", args[0]), KqlLiteral.Long(0)),
                    _ => KqlNodes.Call(empty ? "isnull" : "isnotnull", args[0]),
                };
            case "lower":
                return KqlNodes.Call("tolower", args[0]);
            case "cidr_match":
                // ipv4_is_in_any_range gives null for an IPv6 address or range; ipv6_is_in_any_range reads both families
                // (an IPv4 address or range as IPv4-mapped), so it is used once a range is IPv6.
                return KqlNodes.Call(c.Args.Skip(1).Any(a => a is BoundLiteral { Value: string r } && Binder.IsIpv6Cidr(r)) ? "ipv6_is_in_any_range" : "ipv4_is_in_any_range", args);
            case "days_since":
                // Whole days elapsed, truncated as ES|QL's DATE_DIFF counts them (datetime_diff counts calendar boundaries).
                return KqlNodes.Call("tolong", KqlNodes.Op("/", KqlNodes.Op("-", args[1], args[0]), KqlLiteral.Span(TimeSpan.FromDays(1))));
            case "days_until":
                return KqlNodes.Call("tolong", KqlNodes.Op("/", KqlNodes.Op("-", args[0], args[1]), KqlLiteral.Span(TimeSpan.FromDays(1))));
            default:
                throw new InvalidOperationException("no KQL translation of " + c.Function);
        }
    }

    private static KqlExpr Aggregate(BoundAggregate a) => a.Function switch
    {
        AggregateFn.Count => KqlNodes.Call("count"),
        AggregateFn.Sum => KqlNodes.Call("sum", Emit(a.Argument!)),
        AggregateFn.DistinctCount => KqlNodes.Call("dcount", Emit(a.Argument!)),
        AggregateFn.Min => KqlNodes.Call("min", Emit(a.Argument!)),
        AggregateFn.Max => KqlNodes.Call("max", Emit(a.Argument!)),
        _ => KqlNodes.Call("avg", Emit(a.Argument!)),
    };
}
