using KeyAbuseContent.Expressions;
using KeyAbuseContent.Expressions.Regex;

namespace KeyAbuseContent.Targets.Esql;

/// <summary>
/// Translates bound rule expressions to ES|QL syntax trees with KQL's semantics: negations are pushed
/// to the leaves, and a negated test on a missing (null) field is true, as it is on KQL's empty string.
/// </summary>
public sealed class EsqlExpressionEmitter
{
    private readonly EsqlExpr? _now;

    /// <param name="now">What stands for the run time (a snapshot's <c>@timestamp</c>); ES|QL rules never call NOW().</param>
    public EsqlExpressionEmitter(EsqlExpr? now = null) => _now = now;

    public EsqlExpr Emit(Bound b) => Positive(b);

    private EsqlExpr Positive(Bound b) => b switch
    {
        BoundField f => new EsqlField(f.Field.EsqlName),
        BoundLiteral l => Literal(l),
        BoundCompare c => Compare(c, negated: false),
        BoundArithmetic a => Arithmetic(a),
        BoundNegate n => new EsqlNegate(Positive(n.Operand)),
        BoundLogical l => EsqlNodes.Op(l.IsAnd ? "AND" : "OR", Positive(l.Left), Positive(l.Right)),
        BoundNot n => Negative(n.Operand),
        BoundIn i => In(i, i.Negated),
        BoundStringTest s => StringTest(s, s.Negated),
        BoundMatches m => Matches(m, m.Negated),
        BoundCall c => Call(c, negated: false),
        BoundNow => _now ?? throw new InvalidOperationException("ES|QL rules never call NOW(); this query has no run-time column"),
        BoundAggregate a => Aggregate(a),
        _ => throw new InvalidOperationException("cannot emit " + b.GetType().Name),
    };

    /// <summary>The negation of <paramref name="b"/>, pushed down to the leaves.</summary>
    private EsqlExpr Negative(Bound b) => b switch
    {
        BoundNot n => Positive(n.Operand),
        BoundLogical l => EsqlNodes.Op(l.IsAnd ? "OR" : "AND", Negative(l.Left), Negative(l.Right)),
        BoundCompare c => Compare(c, negated: true),
        BoundIn i => In(i, !i.Negated),
        BoundStringTest s => StringTest(s, !s.Negated),
        BoundMatches m => Matches(m, !m.Negated),
        BoundCall c => Call(c, negated: true),
        _ => new EsqlNot(Positive(b)),
    };

    private static EsqlExpr Literal(BoundLiteral l) => l.Type switch
    {
        ExprType.String => EsqlLiteral.Str((string)l.Value!),
        ExprType.Ip => EsqlNodes.Call("TO_IP", EsqlLiteral.Str((string)l.Value!)),
        ExprType.Long => EsqlLiteral.Long((long)l.Value!),
        ExprType.Real => EsqlLiteral.Double(Convert.ToDouble(l.Value, System.Globalization.CultureInfo.InvariantCulture)),
        ExprType.Bool => EsqlLiteral.Bool((bool)l.Value!),
        ExprType.TimeSpan => EsqlLiteral.Span((TimeSpan)l.Value!),
        _ => throw new InvalidOperationException("no ES|QL literal for " + l.Type),
    };

    private static bool Nullable(Bound b) => b is not BoundLiteral;

    /// <summary><c>x IS NULL OR test</c>: what a negated test is on a missing value under KQL's semantics.</summary>
    private static EsqlExpr OrMissing(Bound value, EsqlExpr emitted, EsqlExpr test) =>
        Nullable(value) ? EsqlNodes.Op("OR", new EsqlIsNull(emitted, false), test) : test;

    private EsqlExpr Compare(BoundCompare c, bool negated)
    {
        var op = c.Op;
        if (negated)
        {
            op = op switch
            {
                CompareOp.Equal => CompareOp.NotEqual,
                CompareOp.NotEqual => CompareOp.Equal,
                CompareOp.EqualIgnoreCase => CompareOp.NotEqualIgnoreCase,
                CompareOp.NotEqualIgnoreCase => CompareOp.EqualIgnoreCase,
                CompareOp.Less => CompareOp.GreaterOrEqual,
                CompareOp.LessOrEqual => CompareOp.Greater,
                CompareOp.Greater => CompareOp.LessOrEqual,
                _ => CompareOp.Less,
            };
        }
        var left = Positive(c.Left);
        var right = Positive(c.Right);
        if (c.Left.Type == ExprType.String && c.Right is BoundLiteral { Value: "" } && op is CompareOp.Equal or CompareOp.NotEqual)
        {
            return Empty(left, op == CompareOp.Equal);
        }
        if (op is CompareOp.EqualIgnoreCase or CompareOp.NotEqualIgnoreCase)
        {
            left = EsqlNodes.Call("TO_LOWER", left);
            right = c.Right is BoundLiteral { Value: string s } ? EsqlLiteral.Str(s.ToLowerInvariant()) : EsqlNodes.Call("TO_LOWER", right);
        }
        switch (op)
        {
            case CompareOp.Equal or CompareOp.EqualIgnoreCase:
                return EsqlNodes.Op("==", left, right);
            case CompareOp.NotEqual or CompareOp.NotEqualIgnoreCase:
                var test = EsqlNodes.Op("!=", left, right);
                var rawLeft = Positive(c.Left);
                var rawRight = Positive(c.Right);
                return (Nullable(c.Left), Nullable(c.Right)) switch
                {
                    (true, false) => EsqlNodes.Op("OR", new EsqlIsNull(rawLeft, false), test),
                    (false, true) => EsqlNodes.Op("OR", new EsqlIsNull(rawRight, false), test),
                    // A null and a value are unequal; two nulls are not (KQL gives null, a where drops it).
                    _ => EsqlNodes.Op("OR", test, EsqlNodes.Op("OR",
                        EsqlNodes.Op("AND", new EsqlIsNull(rawLeft, false), new EsqlIsNull(rawRight, true)),
                        EsqlNodes.Op("AND", new EsqlIsNull(rawLeft, true), new EsqlIsNull(rawRight, false)))),
                };
            default:
                return EsqlNodes.Op(op switch
                {
                    CompareOp.Less => "<",
                    CompareOp.LessOrEqual => "<=",
                    CompareOp.Greater => ">",
                    _ => ">=",
                }, left, right);
        }
    }

    private static EsqlExpr Empty(EsqlExpr value, bool empty) => empty
        ? EsqlNodes.Op("OR", new EsqlIsNull(value, false), EsqlNodes.Op("==", value, EsqlLiteral.Str("")))
        : EsqlNodes.Op("AND", new EsqlIsNull(value, true), EsqlNodes.Op("!=", value, EsqlLiteral.Str("")));

    private EsqlExpr Arithmetic(BoundArithmetic a)
    {
        var left = Positive(a.Left);
        var right = Positive(a.Right);
        return a.Op switch
        {
            BinaryOp.Add => EsqlNodes.Op("+", left, right),
            BinaryOp.Subtract => EsqlNodes.Op("-", left, right),
            BinaryOp.Multiply => EsqlNodes.Op("*", left, right),
            // Real division; ES|QL returns null on a zero divisor.
            _ => EsqlNodes.Op("/", EsqlNodes.Call("TO_DOUBLE", left), right),
        };
    }

    private EsqlExpr In(BoundIn i, bool negated)
    {
        var value = Positive(i.Value);
        var items = i.Items.Select(item => i.IgnoreCase ? EsqlLiteral.Str(((string)item.Value!).ToLowerInvariant()) : Literal(item)).ToList();
        var tested = i.IgnoreCase ? EsqlNodes.Call("TO_LOWER", value) : value;
        var test = new EsqlIn(tested, negated, [.. items]);
        return negated ? OrMissing(i.Value, value, test) : test;
    }

    private EsqlExpr StringTest(BoundStringTest s, bool negated)
    {
        var value = Positive(s.Value);
        EsqlExpr test = s.Op switch
        {
            StringOp.StartsWith => EsqlNodes.Call("STARTS_WITH", value, EsqlLiteral.Str(s.Literal)),
            StringOp.EndsWith => EsqlNodes.Call("ENDS_WITH", value, EsqlLiteral.Str(s.Literal)),
            // KQL's contains ignores case; LIKE does not, so both sides are lowered.
            _ => EsqlNodes.Op("LIKE", EsqlNodes.Call("TO_LOWER", value), new EsqlPattern("*" + Escapes.Wildcards(s.Literal.ToLowerInvariant()) + "*")),
        };
        return negated ? OrMissing(s.Value, value, new EsqlNot(test)) : test;
    }

    private EsqlExpr Matches(BoundMatches m, bool negated)
    {
        var value = Positive(m.Value);
        var test = EsqlNodes.Op("RLIKE", value, new EsqlPattern(RegexRenderer.ToLucene(m.Pattern)));
        return negated ? OrMissing(m.Value, value, new EsqlNot(test)) : test;
    }

    private EsqlExpr Call(BoundCall c, bool negated)
    {
        var args = c.Args.Select(Positive).ToArray();
        switch (c.Function)
        {
            case "isempty" or "isnotempty":
                var empty = (c.Function == "isempty") != negated;
                return c.Args[0].Type == ExprType.String ? Empty(args[0], empty) : new EsqlIsNull(args[0], !empty);
            case "lower":
                return EsqlNodes.Call("TO_LOWER", args[0]);
            case "cidr_match":
                var match = EsqlNodes.Call("CIDR_MATCH", args);
                return negated ? new EsqlNot(match) : match;
            case "days_since":
                return EsqlNodes.Call("DATE_DIFF", EsqlLiteral.Str("day"), args[0], args[1]);
            case "days_until":
                return EsqlNodes.Call("DATE_DIFF", EsqlLiteral.Str("day"), args[1], args[0]);
            default:
                throw new InvalidOperationException("no ES|QL translation of " + c.Function);
        }
    }

    private EsqlExpr Aggregate(BoundAggregate a) => a.Function switch
    {
        AggregateFn.Count => EsqlNodes.Call("COUNT", new EsqlStar()),
        AggregateFn.Sum => EsqlNodes.Call("SUM", Positive(a.Argument!)),
        AggregateFn.DistinctCount => EsqlNodes.Call("COUNT_DISTINCT", Positive(a.Argument!)),
        AggregateFn.Min => EsqlNodes.Call("MIN", Positive(a.Argument!)),
        AggregateFn.Max => EsqlNodes.Call("MAX", Positive(a.Argument!)),
        _ => EsqlNodes.Call("AVG", Positive(a.Argument!)),
    };
}
