using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;

namespace KeyAbuseContent.Expressions;

/// <summary>The current time of the run (days_since): <c>now()</c> in KQL, a time column in ES|QL.</summary>
public sealed record BoundNow(TextSpan Span) : Bound(ExprType.DateTime, Span);

/// <summary>Stands for a part that did not bind; its error is reported once, and what contains it reports nothing more.</summary>
public sealed record BoundError(TextSpan Span) : Bound(ExprType.Null, Span);

/// <summary>
/// Resolves names against a <see cref="Scope"/> and checks types, turning a syntax tree into a
/// <see cref="Bound"/> tree. Every error names the span and says what would be right.
/// </summary>
public sealed class Binder
{
    private readonly Scope _scope;
    private readonly List<ExpressionError> _errors = [];

    private Binder(Scope scope) => _scope = scope;

    /// <summary>Binds <paramref name="expr"/>; a result of the wrong type is an error when <paramref name="expected"/> is given.</summary>
    public static (Bound? Bound, IReadOnlyList<ExpressionError> Errors) Bind(Expr expr, Scope scope, ExprType? expected = ExprType.Bool)
    {
        var binder = new Binder(scope);
        var bound = binder.BindExpr(expr);
        if (binder._errors.Count == 0 && expected is { } t && !Compatible(bound.Type, t))
        {
            binder._errors.Add(new ExpressionError(expr.Span, $"the expression is {Word(bound.Type)}; {Word(t)} is expected here"));
        }
        return binder._errors.Count == 0 ? (bound, []) : (null, binder._errors);
    }

    private static bool Compatible(ExprType actual, ExprType expected) =>
        actual == expected || (IsNumeric(actual) && IsNumeric(expected));

    private static bool IsNumeric(ExprType t) => t is ExprType.Long or ExprType.Real;

    public static string Word(ExprType t) => t switch
    {
        ExprType.String => "a string",
        ExprType.Long => "an integer",
        ExprType.Real => "a number",
        ExprType.Bool => "a condition (true or false)",
        ExprType.DateTime => "a date-time",
        ExprType.TimeSpan => "a duration",
        ExprType.Ip => "an IP address",
        ExprType.StringList => "a list of strings",
        _ => "null",
    };

    private BoundError Fail(TextSpan span, string message)
    {
        _errors.Add(new ExpressionError(span, message));
        return new BoundError(span);
    }

    private Bound BindExpr(Expr expr) => expr switch
    {
        LiteralExpr l => BindLiteral(l),
        NameExpr n => BindName(n),
        UnaryExpr u => BindUnary(u),
        BinaryExpr b => BindBinary(b),
        InExpr i => BindIn(i),
        MatchesExpr m => BindMatches(m),
        CallExpr c => BindCall(c),
        _ => Fail(expr.Span, "unsupported expression"),
    };

    private static BoundLiteral BindLiteral(LiteralExpr l) => l.Kind switch
    {
        LiteralKind.String => new BoundLiteral(ExprType.String, l.Value, l.Span),
        LiteralKind.Long => new BoundLiteral(ExprType.Long, l.Value, l.Span),
        LiteralKind.Real => new BoundLiteral(ExprType.Real, l.Value, l.Span),
        LiteralKind.Bool => new BoundLiteral(ExprType.Bool, l.Value, l.Span),
        LiteralKind.Duration => new BoundLiteral(ExprType.TimeSpan, l.Value, l.Span),
        _ => new BoundLiteral(ExprType.Null, null, l.Span),
    };

    private Bound BindName(NameExpr n)
    {
        var field = _scope.Lookup(n.Name);
        if (field is null)
        {
            var suggestion = Suggest(n.Name);
            return Fail(n.Span, $"'{n.Name}' is not one of the {_scope.Description}{suggestion}");
        }
        return new BoundField(field, n.Span);
    }

    private string Suggest(string name)
    {
        var best = _scope.Names.Select(c => (c, d: Distance(c, name))).Where(x => x.d <= 2).OrderBy(x => x.d).FirstOrDefault();
        return best.c is null ? $" ({string.Join(", ", _scope.Names)})" : $"; did you mean '{best.c}'?";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }
        return d[a.Length, b.Length];
    }

    private Bound BindUnary(UnaryExpr u)
    {
        var operand = BindExpr(u.Operand);
        if (operand is BoundError)
        {
            return operand;
        }
        if (u.Op == UnaryOp.Not)
        {
            RequireBool(operand, "'not'");
            return new BoundNot(operand, u.Span);
        }
        if (!IsNumeric(operand.Type) && operand.Type != ExprType.Null)
        {
            return Fail(u.Span, $"'-' needs a number, not {Word(operand.Type)}");
        }
        return new BoundNegate(operand, u.Span);
    }

    private void RequireBool(Bound b, string what)
    {
        if (b.Type != ExprType.Bool && b.Type != ExprType.Null)
        {
            _errors.Add(new ExpressionError(b.Span, $"{what} needs a condition, not {Word(b.Type)}"));
        }
    }

    private Bound BindBinary(BinaryExpr b)
    {
        var left = BindExpr(b.Left);
        var right = BindExpr(b.Right);
        if (left is BoundError || right is BoundError)
        {
            return new BoundError(b.Span);
        }
        switch (b.Op)
        {
            case BinaryOp.And or BinaryOp.Or:
                RequireBool(left, $"'{(b.Op == BinaryOp.And ? "and" : "or")}'");
                RequireBool(right, $"'{(b.Op == BinaryOp.And ? "and" : "or")}'");
                return new BoundLogical(b.Op == BinaryOp.And, left, right, b.Span);
            case BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply or BinaryOp.Divide:
                if (!IsNumeric(left.Type) || !IsNumeric(right.Type))
                {
                    return Fail(b.Span, $"arithmetic needs numbers, not {Word(left.Type)} and {Word(right.Type)}");
                }
                var type = b.Op == BinaryOp.Divide || left.Type == ExprType.Real || right.Type == ExprType.Real ? ExprType.Real : ExprType.Long;
                return new BoundArithmetic(b.Op, left, right, type, b.Span);
            case BinaryOp.StartsWith or BinaryOp.EndsWith or BinaryOp.Contains:
                var op = b.Op switch
                {
                    BinaryOp.StartsWith => StringOp.StartsWith,
                    BinaryOp.EndsWith => StringOp.EndsWith,
                    _ => StringOp.Contains,
                };
                if (left.Type != ExprType.String)
                {
                    return Fail(b.Left.Span, $"'{op.ToString().ToLowerInvariant()}' tests a string, not {Word(left.Type)}");
                }
                if (right is not BoundLiteral { Type: ExprType.String, Value: string literal })
                {
                    return Fail(b.Right.Span, $"'{op.ToString().ToLowerInvariant()}' takes a quoted string on its right");
                }
                if (literal.Length == 0)
                {
                    return Fail(b.Right.Span, "an empty string matches everything; remove the test");
                }
                return new BoundStringTest(op, left, literal, Negated: false, b.Span);
            default:
                return BindComparison(b, left, right);
        }
    }

    private Bound BindComparison(BinaryExpr b, Bound left, Bound right)
    {
        var op = b.Op switch
        {
            BinaryOp.Equal => CompareOp.Equal,
            BinaryOp.NotEqual => CompareOp.NotEqual,
            BinaryOp.EqualIgnoreCase => CompareOp.EqualIgnoreCase,
            BinaryOp.NotEqualIgnoreCase => CompareOp.NotEqualIgnoreCase,
            BinaryOp.Less => CompareOp.Less,
            BinaryOp.LessOrEqual => CompareOp.LessOrEqual,
            BinaryOp.Greater => CompareOp.Greater,
            _ => CompareOp.GreaterOrEqual,
        };
        if (left is BoundLiteral { Type: ExprType.Null } || right is BoundLiteral { Type: ExprType.Null })
        {
            return Fail(b.Span, "compare with null through isempty(x) or isnotempty(x); '== null' means different things in KQL and ES|QL");
        }
        if (op is CompareOp.EqualIgnoreCase or CompareOp.NotEqualIgnoreCase)
        {
            if (left.Type != ExprType.String || right.Type != ExprType.String)
            {
                return Fail(b.Span, "'=~' and '!~' compare strings");
            }
            return new BoundCompare(op, left, right, b.Span);
        }
        right = Coerce(right, left.Type);
        left = Coerce(left, right.Type);
        if (left is BoundError || right is BoundError)
        {
            return new BoundError(b.Span);
        }
        var ordering = op is CompareOp.Less or CompareOp.LessOrEqual or CompareOp.Greater or CompareOp.GreaterOrEqual;
        var compatible = (IsNumeric(left.Type) && IsNumeric(right.Type)) || left.Type == right.Type;
        if (!compatible)
        {
            return Fail(b.Span, $"cannot compare {Word(left.Type)} with {Word(right.Type)}");
        }
        if (ordering && left.Type is ExprType.String or ExprType.Ip or ExprType.Bool or ExprType.StringList)
        {
            return Fail(b.Span, $"'<' and '>' compare numbers, date-times and durations, not {Word(left.Type)}");
        }
        if (left.Type == ExprType.StringList)
        {
            return Fail(b.Span, "a list cannot be compared; test it with isempty()");
        }
        if (left is BoundLiteral && right is BoundLiteral)
        {
            return Fail(b.Span, "this compares two constants; one side must be a field");
        }
        return new BoundCompare(op, left, right, b.Span);
    }

    /// <summary>A string literal stands for an IP address where one is compared with an address.</summary>
    private Bound Coerce(Bound b, ExprType target)
    {
        if (target == ExprType.Ip && b is BoundLiteral { Type: ExprType.String, Value: string text })
        {
            // IPAddress.TryParse also takes "10.0.0" (inet_aton's shorthand); an address here is written out in full.
            var written = text.Count(ch => ch == '.') == 3 || text.Contains(':', StringComparison.Ordinal);
            if (!written || !IPAddress.TryParse(text, out _) || text.Contains('/', StringComparison.Ordinal))
            {
                return Fail(b.Span, $"'{text}' is not an IP address; use cidr_match(field, \"10.0.0.0/8\") for ranges");
            }
            return new BoundLiteral(ExprType.Ip, text, b.Span);
        }
        return b;
    }

    private Bound BindIn(InExpr i)
    {
        var value = BindExpr(i.Value);
        if (value.Type is not (ExprType.String or ExprType.Long or ExprType.Real or ExprType.Ip))
        {
            return value is BoundError ? value : Fail(i.Value.Span, $"'in' tests a string, number or address, not {Word(value.Type)}");
        }
        if (i.IgnoreCase && value.Type != ExprType.String)
        {
            return Fail(i.Span, "'in~' compares strings");
        }
        var items = ImmutableArray.CreateBuilder<BoundLiteral>();
        foreach (var item in i.Items)
        {
            var bound = Coerce(BindExpr(item), value.Type);
            if (bound is BoundError)
            {
                continue;
            }
            if (bound is not BoundLiteral literal || literal.Type == ExprType.Null)
            {
                Fail(item.Span, "the list of 'in' holds constants only");
                continue;
            }
            var ok = literal.Type == value.Type || (IsNumeric(literal.Type) && IsNumeric(value.Type));
            if (!ok)
            {
                Fail(item.Span, $"'in' compares {Word(value.Type)} with {Word(literal.Type)}");
                continue;
            }
            items.Add(literal);
        }
        return new BoundIn(value, items.ToImmutable(), i.Negated, i.IgnoreCase, i.Span);
    }

    private Bound BindMatches(MatchesExpr m)
    {
        var value = BindExpr(m.Value);
        if (value.Type != ExprType.String)
        {
            return value is BoundError ? value : Fail(m.Value.Span, $"'matches' tests a string, not {Word(value.Type)}");
        }
        if (MatchesEmpty(m.Pattern))
        {
            return Fail(m.Span, "the pattern matches the empty string, which KQL (missing strings are empty) and ES|QL (missing fields are null) treat differently; make it need at least one character");
        }
        return new BoundMatches(value, (Regex.RegexPattern)m.Pattern, Negated: false, m.Span);
    }

    /// <summary>Whether a pattern can match an empty string (then a search matches every value).</summary>
    private static bool MatchesEmpty(Regex.RegexNode node) => node switch
    {
        Regex.RegexPattern p => MatchesEmpty(p.Body),
        Regex.RegexRepeat r => r.Min == 0 || MatchesEmpty(r.Body),
        Regex.RegexConcat c => c.Items.All(MatchesEmpty),
        Regex.RegexAlternation a => a.Options.Any(MatchesEmpty),
        Regex.RegexGroup g => MatchesEmpty(g.Body),
        _ => false,
    };

    private Bound BindCall(CallExpr c)
    {
        var aggregate = c.Function switch
        {
            "count" => AggregateFn.Count,
            "sum" => AggregateFn.Sum,
            "dcount" => AggregateFn.DistinctCount,
            "min" => AggregateFn.Min,
            "max" => AggregateFn.Max,
            "avg" => AggregateFn.Avg,
            _ => (AggregateFn?)null,
        };
        if (aggregate is { } fn)
        {
            return BindAggregate(c, fn);
        }
        var args = c.Args.Select(BindExpr).ToImmutableArray();
        if (args.Any(a => a is BoundError))
        {
            return new BoundError(c.Span);
        }
        switch (c.Function)
        {
            case "isempty" or "isnotempty":
                if (args.Length != 1 || args[0] is BoundLiteral)
                {
                    return Fail(c.Span, $"{c.Function}(field) takes one field");
                }
                return new BoundCall(c.Function, args, ExprType.Bool, c.Span);
            case "lower":
                if (args.Length != 1 || args[0].Type != ExprType.String)
                {
                    return Fail(c.Span, "lower(x) takes one string");
                }
                return new BoundCall("lower", args, ExprType.String, c.Span);
            case "cidr_match":
                if (args.Length < 2 || args[0].Type != ExprType.Ip)
                {
                    return Fail(c.Span, "cidr_match(address, \"10.0.0.0/8\", ...) takes an address field and one or more IPv4 or IPv6 ranges");
                }
                foreach (var range in args.Skip(1))
                {
                    if (range is not BoundLiteral { Value: string cidr } || !IsCidr(cidr))
                    {
                        Fail(range.Span, "a range of cidr_match is a quoted IPv4 or IPv6 CIDR such as \"10.0.0.0/8\" or \"2001:db8::/32\"");
                    }
                }
                return new BoundCall("cidr_match", args, ExprType.Bool, c.Span);
            case "days_since":
                if (!_scope.AllowNow)
                {
                    return Fail(c.Span, "days_since() needs the run time, which only inventory rules have");
                }
                if (args.Length != 1 || args[0].Type != ExprType.DateTime)
                {
                    return Fail(c.Span, "days_since(date) takes one date-time field");
                }
                return new BoundCall("days_since", [args[0], new BoundNow(c.Span)], ExprType.Long, c.Span);
            case "days_until":
                if (!_scope.AllowNow)
                {
                    return Fail(c.Span, "days_until() needs the run time, which only inventory rules have");
                }
                if (args.Length != 1 || args[0].Type != ExprType.DateTime)
                {
                    return Fail(c.Span, "days_until(date) takes one date-time field");
                }
                return new BoundCall("days_until", [args[0], new BoundNow(c.Span)], ExprType.Long, c.Span);
            default:
                return Fail(c.Span, $"unknown function '{c.Function}'; the language has isempty, isnotempty, lower, cidr_match, days_since, days_until and, in aggregates, count, sum, dcount, min, max, avg");
        }
    }

    /// <summary>An IPv4 CIDR written out in full (four octets, prefix 0-32) or an IPv6 CIDR (prefix 0-128, no zone).</summary>
    private static bool IsCidr(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !IPAddress.TryParse(text[..slash], out var address)
            || !int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bits))
        {
            return false;
        }
        return address.AddressFamily == AddressFamily.InterNetwork
            ? bits <= 32 && text[..slash].Count(ch => ch == '.') == 3
            : address.AddressFamily == AddressFamily.InterNetworkV6 && bits <= 128 && !text.Contains('%', StringComparison.Ordinal);
    }

    /// <summary>Whether a range literal of cidr_match is an IPv6 CIDR (the targets then need their IPv6-aware forms).</summary>
    public static bool IsIpv6Cidr(string text) => text.Contains(':', StringComparison.Ordinal);

    private Bound BindAggregate(CallExpr c, AggregateFn fn)
    {
        if (!_scope.AllowAggregates)
        {
            return Fail(c.Span, $"{c.Function}() is an aggregate; aggregates belong in the 'aggregate' block, and conditions name them");
        }
        if (fn == AggregateFn.Count)
        {
            if (c.Args.Length != 0)
            {
                return Fail(c.Span, "count() takes no argument; filter with 'where'");
            }
            return new BoundAggregate(fn, null, ExprType.Long, c.Span);
        }
        if (c.Args.Length != 1 || c.Args[0] is not NameExpr)
        {
            return Fail(c.Span, $"{c.Function}(field) takes one field");
        }
        var inner = new Binder(_scope.With(_scope.Description, [], allowAggregates: false));
        var arg = inner.BindExpr(c.Args[0]);
        _errors.AddRange(inner._errors);
        if (inner._errors.Count > 0)
        {
            return arg;
        }
        switch (fn)
        {
            case AggregateFn.DistinctCount:
                return new BoundAggregate(fn, arg, ExprType.Long, c.Span);
            case AggregateFn.Min or AggregateFn.Max:
                if (!IsNumeric(arg.Type) && arg.Type != ExprType.DateTime)
                {
                    return Fail(c.Span, $"{c.Function}() takes a number or a date-time, not {Word(arg.Type)}");
                }
                return new BoundAggregate(fn, arg, arg.Type, c.Span);
            default:
                if (!IsNumeric(arg.Type))
                {
                    return Fail(c.Span, $"{c.Function}() takes a number, not {Word(arg.Type)}");
                }
                var type = fn == AggregateFn.Avg ? ExprType.Real : arg.Type;
                return new BoundAggregate(fn, arg, type, c.Span);
        }
    }
}
