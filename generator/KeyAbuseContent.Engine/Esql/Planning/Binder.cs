using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Aggregation;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Functions;
using KeyAbuseContent.Engine.Esql.Patterns;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Planning;

/// <summary>
/// Turns an expression's syntax into a typed evaluator against the columns in scope: resolves names, checks
/// types with Elasticsearch's rules (numeric widening, string literals read as dates and addresses where one is
/// expected), and folds constant sub-expressions. Every error names the construct and its position.
/// </summary>
internal sealed class Binder(SourceText source, Schema schema, EvalContext context)
{
    /// <summary>Binds aggregate calls inside STATS; outside STATS there is none and aggregates are refused.</summary>
    public Func<CallExpr, Binder, Evaluator?>? AggregateHook { get; init; }

    /// <summary>Inside a STATS aggregate expression: the input columns, which may only be read inside an aggregate.</summary>
    public Schema? AggregateInput { get; init; }

    public SourceText Source => source;

    public Schema Schema => schema;

    public EvalContext Context => context;

    public EsqlException Error(TextSpan span, string message) => source.Error(span, message);

    public string Text(SyntaxNode node) => source.Slice(node.Span);

    public string Text(TextSpan span) => source.Slice(span);

    public Evaluator Bind(Expr expr) => expr switch
    {
        LiteralExpr literal => BindLiteral(literal),
        ListExpr list => BindList(list),
        FieldExpr field => BindField(field),
        CallExpr call => BindCall(call),
        UnaryExpr unary => BindUnary(unary),
        BinaryExpr binary => BindBinary(binary),
        InExpr @in => BindIn(@in),
        IsNullExpr isNull => Fold(new IsNullEvaluator(isNull.Span, Bind(isNull.Value), isNull.Negated)),
        PatternExpr pattern => BindPattern(pattern),
        CastExpr cast => BindCast(cast),
        _ => throw Error(expr.Span, $"unsupported expression [{Text(expr)}]"),
    };

    /// <summary>Binds a condition: boolean or null.</summary>
    public Evaluator BindCondition(Expr expr, string command)
    {
        var bound = Bind(expr);
        if (bound.Type is not (EsqlType.Boolean or EsqlType.Null))
        {
            throw Error(expr.Span, $"Condition expression needs to be boolean, found [{EsqlTypes.Name(bound.Type)}] in {command}");
        }
        return bound.Type == EsqlType.Null ? new ConstantEvaluator(EsqlType.Boolean, bound.Span, null) : bound;
    }

    private static ConstantEvaluator BindLiteral(LiteralExpr literal) => literal.Kind switch
    {
        LiteralKind.Null => new ConstantEvaluator(EsqlType.Null, literal.Span, null),
        LiteralKind.Boolean => new ConstantEvaluator(EsqlType.Boolean, literal.Span, literal.Value),
        LiteralKind.Integer => new ConstantEvaluator(EsqlType.Integer, literal.Span, literal.Value),
        LiteralKind.Long => new ConstantEvaluator(EsqlType.Long, literal.Span, literal.Value),
        LiteralKind.Double => new ConstantEvaluator(EsqlType.Double, literal.Span, literal.Value),
        LiteralKind.String => new ConstantEvaluator(EsqlType.Keyword, literal.Span, literal.Value),
        LiteralKind.TimeDuration => new ConstantEvaluator(EsqlType.TimeDuration, literal.Span, (long)((TimeSpan)literal.Value!).TotalMilliseconds),
        _ => new ConstantEvaluator(EsqlType.DatePeriod, literal.Span, literal.Value),
    };

    private ConstantEvaluator BindList(ListExpr list)
    {
        var items = list.Items.Select(i => (ConstantEvaluator)Bind(i)).Where(i => i.Value is not null).ToList();
        if (items.Count == 0)
        {
            return new ConstantEvaluator(EsqlType.Null, list.Span, null);
        }
        var type = items[0].Type;
        foreach (var item in items.Skip(1))
        {
            type = CommonType(type, item.Type) ?? throw Error(item.Span, $"multi-value literal [{Text(list)}] mixes [{EsqlTypes.Name(type)}] and [{EsqlTypes.Name(item.Type)}]");
        }
        var values = items.Select(i => Conversions.Convert(i.Value!, i.Type, type)).Cast<object?>().ToImmutableArray();
        return new ConstantEvaluator(type, list.Span, values.Length == 1 ? values[0] : values);
    }

    private FieldEvaluator BindField(FieldExpr field)
    {
        var index = schema.IndexOf(field.Name);
        if (index < 0 && AggregateInput?.IndexOf(field.Name) >= 0)
        {
            throw Error(field.Span, $"column [{field.Name}] must appear in the STATS BY clause or be used in an aggregate function");
        }
        if (index < 0)
        {
            var suggestions = schema.Suggestions(field.Name).ToList();
            var hint = suggestions.Count > 0 ? $", did you mean {(suggestions.Count == 1 ? $"[{suggestions[0]}]" : $"any of [{string.Join(", ", suggestions)}]")}?" : "";
            throw Error(field.Span, $"Unknown column [{field.Name}]{hint}");
        }
        var attribute = schema[index];
        if (attribute.Type == EsqlType.Unsupported)
        {
            throw Error(field.Span, $"Cannot use field [{field.Name}] with unsupported type [{attribute.UnsupportedReason ?? "unsupported"}]");
        }
        return new FieldEvaluator(attribute.Type, field.Span, field.Name, index);
    }

    private Evaluator BindCall(CallExpr call)
    {
        if (AggregateFunctions.IsAggregate(call.Name))
        {
            return AggregateHook?.Invoke(call, this)
                ?? throw Error(call.Span, $"aggregate function [{Text(call)}] not allowed outside STATS command");
        }
        if (call.Star)
        {
            throw Error(call.Span, $"[*] is only allowed in COUNT(*), not in [{Text(call)}]");
        }
        var args = call.Args.Select(Bind).ToImmutableArray();
        return Fold(FunctionRegistry.Bind(new FunctionCall(call, args, this)));
    }

    private Evaluator BindUnary(UnaryExpr unary)
    {
        var operand = Bind(unary.Operand);
        if (unary.Op == UnaryOp.Not)
        {
            if (operand.Type == EsqlType.Null)
            {
                return new ConstantEvaluator(EsqlType.Boolean, unary.Span, null);
            }
            if (operand.Type != EsqlType.Boolean)
            {
                throw Error(unary.Span, $"argument of [{Text(unary)}] must be [boolean], found value [{Text(unary.Operand)}] type [{EsqlTypes.Name(operand.Type)}]");
            }
            return Fold(new NotEvaluator(unary.Span, operand));
        }
        if (operand.Type == EsqlType.Null)
        {
            return new ConstantEvaluator(EsqlType.Null, unary.Span, null);
        }
        if (!EsqlTypes.IsNumeric(operand.Type) && operand.Type is not (EsqlType.TimeDuration or EsqlType.DatePeriod))
        {
            throw Error(unary.Span, $"argument of [{Text(unary)}] must be [numeric, date_period or time_duration], found value [{Text(unary.Operand)}] type [{EsqlTypes.Name(operand.Type)}]");
        }
        return Fold(new NegateEvaluator(unary.Span, operand));
    }

    private Evaluator BindBinary(BinaryExpr binary)
    {
        var left = Bind(binary.Left);
        var right = Bind(binary.Right);
        switch (binary.Op)
        {
            case BinaryOp.And or BinaryOp.Or:
                {
                    left = RequireBoolean(left, binary, binary.Left, "first");
                    right = RequireBoolean(right, binary, binary.Right, "second");
                    return Fold(new LogicEvaluator(binary.Span, binary.Op == BinaryOp.And, left, right));
                }
            case BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply or BinaryOp.Divide or BinaryOp.Modulo:
                return BindArithmetic(binary, left, right);
            default:
                return BindComparison(binary, left, right);
        }
    }

    private Evaluator RequireBoolean(Evaluator operand, BinaryExpr binary, Expr syntax, string ordinal)
    {
        if (operand.Type == EsqlType.Null)
        {
            return new ConstantEvaluator(EsqlType.Boolean, operand.Span, null);
        }
        if (operand.Type != EsqlType.Boolean)
        {
            throw Error(syntax.Span, $"{ordinal} argument of [{Text(binary)}] must be [boolean], found value [{Text(syntax)}] type [{EsqlTypes.Name(operand.Type)}]");
        }
        return operand;
    }

    private Evaluator BindArithmetic(BinaryExpr binary, Evaluator left, Evaluator right)
    {
        var op = binary.Op;
        var (l, r) = (EsqlTypes.Widen(left.Type), EsqlTypes.Widen(right.Type));
        if (l == EsqlType.Null || r == EsqlType.Null)
        {
            var other = l == EsqlType.Null ? r : l;
            return new ConstantEvaluator(other is EsqlType.TimeDuration or EsqlType.DatePeriod && (l == EsqlType.Date || r == EsqlType.Date) ? EsqlType.Date : other, binary.Span, null);
        }
        if (EsqlTypes.IsNumeric(l) && EsqlTypes.IsNumeric(r))
        {
            var type = CommonType(l, r)!.Value;
            return Fold(new ArithmeticEvaluator(type, binary.Span, op, Cast.To(left, type, left.Span), Cast.To(right, type, right.Span)));
        }
        if (op is BinaryOp.Add or BinaryOp.Subtract)
        {
            // A string literal beside a time span reads as a date, as Elasticsearch's implicit casting does.
            if (l == EsqlType.Keyword && left is ConstantEvaluator && r is EsqlType.TimeDuration or EsqlType.DatePeriod)
            {
                left = Implicit(left, EsqlType.Date, binary.Left);
                l = EsqlType.Date;
            }
            if (r == EsqlType.Keyword && right is ConstantEvaluator && l is EsqlType.TimeDuration or EsqlType.DatePeriod)
            {
                right = Implicit(right, EsqlType.Date, binary.Right);
                r = EsqlType.Date;
            }
            if (l == EsqlType.Date && r is EsqlType.TimeDuration or EsqlType.DatePeriod)
            {
                return Fold(new ArithmeticEvaluator(EsqlType.Date, binary.Span, op, Cast.To(left, EsqlType.Date, left.Span), right));
            }
            if (op == BinaryOp.Add && r == EsqlType.Date && l is EsqlType.TimeDuration or EsqlType.DatePeriod)
            {
                return Fold(new ArithmeticEvaluator(EsqlType.Date, binary.Span, op, right, left));
            }
            if (l == r && l is EsqlType.TimeDuration or EsqlType.DatePeriod)
            {
                return Fold(new ArithmeticEvaluator(l, binary.Span, op, left, right));
            }
        }
        var symbol = op switch
        {
            BinaryOp.Add => "+",
            BinaryOp.Subtract => "-",
            BinaryOp.Multiply => "*",
            BinaryOp.Divide => "/",
            _ => "%",
        };
        throw Error(binary.Span, $"[{symbol}] has arguments with incompatible types [{EsqlTypes.Name(left.Type)}] and [{EsqlTypes.Name(right.Type)}] in [{Text(binary)}]");
    }

    private Evaluator BindComparison(BinaryExpr binary, Evaluator left, Evaluator right)
    {
        if (left.Type == EsqlType.Null || right.Type == EsqlType.Null)
        {
            return new ConstantEvaluator(EsqlType.Boolean, binary.Span, null);
        }
        if (binary.Op == BinaryOp.CaseInsensitiveEqual)
        {
            if (!EsqlTypes.IsString(left.Type) || !EsqlTypes.IsString(right.Type))
            {
                throw Error(binary.Span, $"[=~] needs string arguments, found [{EsqlTypes.Name(left.Type)}] and [{EsqlTypes.Name(right.Type)}] in [{Text(binary)}]");
            }
            return Fold(new ComparisonEvaluator(binary.Span, binary.Op, left, right));
        }
        (left, right) = Unify(left, right, binary, binary.Left, binary.Right);
        var type = EsqlTypes.Widen(left.Type);
        if (type is EsqlType.Boolean && binary.Op is not (BinaryOp.Equal or BinaryOp.NotEqual))
        {
            throw Error(binary.Left.Span, $"first argument of [{Text(binary)}] must be [date, double, integer, ip, keyword, long, text or time_duration], found value [{Text(binary.Left)}] type [boolean]");
        }
        if (type is EsqlType.DatePeriod)
        {
            throw Error(binary.Left.Span, $"first argument of [{Text(binary)}] cannot be a date_period");
        }
        return Fold(new ComparisonEvaluator(binary.Span, binary.Op, left, right));
    }

    /// <summary>Both operands in one type: numbers widened, string literals read as the other side's date or address.</summary>
    public (Evaluator Left, Evaluator Right) Unify(Evaluator left, Evaluator right, SyntaxNode whole, SyntaxNode leftSyntax, SyntaxNode rightSyntax)
    {
        var (l, r) = (EsqlTypes.Widen(left.Type), EsqlTypes.Widen(right.Type));
        if (l == r)
        {
            return (left, right);
        }
        if (EsqlTypes.IsNumeric(l) && EsqlTypes.IsNumeric(r))
        {
            var type = CommonType(l, r)!.Value;
            return (Cast.To(left, type, left.Span), Cast.To(right, type, right.Span));
        }
        if (l == EsqlType.Keyword && left is ConstantEvaluator && IsImplicitTarget(r))
        {
            return (Implicit(left, r, leftSyntax), right);
        }
        if (r == EsqlType.Keyword && right is ConstantEvaluator && IsImplicitTarget(l))
        {
            return (left, Implicit(right, l, rightSyntax));
        }
        throw Error(whole.Span, $"first argument of [{Text(whole)}] is [{EsqlTypes.Name(left.Type)}] so second argument must also be [{EsqlTypes.Name(left.Type)}] but was [{EsqlTypes.Name(right.Type)}]");
    }

    private static bool IsImplicitTarget(EsqlType type) => type is EsqlType.Date or EsqlType.Ip or EsqlType.Boolean || EsqlTypes.IsNumeric(type);

    /// <summary>A string constant read as <paramref name="type"/>; an unreadable one is an error at its position.</summary>
    public Evaluator Implicit(Evaluator value, EsqlType type, SyntaxNode syntax)
    {
        if (value is not ConstantEvaluator constant || constant.Value is null || !EsqlTypes.IsString(constant.Type))
        {
            return value;
        }
        try
        {
            return new ConstantEvaluator(type, value.Span, Conversions.Convert(constant.Value, EsqlType.Keyword, type));
        }
        catch (EvaluationFailure failure)
        {
            throw Error(syntax.Span, $"Cannot convert string [{constant.Value}] to [{EsqlTypes.Name(type).ToUpperInvariant()}], error [{failure.Message[(failure.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..]}]");
        }
    }

    private Evaluator BindIn(InExpr @in)
    {
        var value = Bind(@in.Value);
        var items = @in.Items.Select(Bind).ToList();
        if (value.Type == EsqlType.Null)
        {
            return new ConstantEvaluator(EsqlType.Boolean, @in.Span, null);
        }
        var type = EsqlTypes.Widen(value.Type);
        foreach (var item in items)
        {
            var itemType = EsqlTypes.Widen(item.Type);
            if (itemType == EsqlType.Null || itemType == type)
            {
                continue;
            }
            if (EsqlTypes.IsNumeric(type) && EsqlTypes.IsNumeric(itemType))
            {
                type = CommonType(type, itemType)!.Value;
            }
            else if (!(itemType == EsqlType.Keyword && item is ConstantEvaluator && IsImplicitTarget(type)))
            {
                throw Error(item.Span, $"{Ordinal(items.IndexOf(item) + 2)} argument of [{Text(@in)}] must be [{EsqlTypes.Name(value.Type)}], found value [{Text(item.Span)}] type [{EsqlTypes.Name(item.Type)}]");
            }
        }
        var converted = ImmutableArray.CreateBuilder<Evaluator>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            converted.Add(item.Type == EsqlType.Null
                ? new ConstantEvaluator(type, item.Span, null)
                : EsqlTypes.Widen(item.Type) == EsqlType.Keyword && type != EsqlType.Keyword ? Implicit(item, type, @in.Items[i]) : Cast.To(item, type, item.Span));
        }
        Evaluator result = new InEvaluator(@in.Span, Cast.To(value, type, value.Span), converted.MoveToImmutable());
        if (@in.Negated)
        {
            result = new NotEvaluator(@in.Span, result);
        }
        return Fold(result);
    }

    private Evaluator BindPattern(PatternExpr pattern)
    {
        var value = Bind(pattern.Value);
        if (value.Type == EsqlType.Null)
        {
            return new ConstantEvaluator(EsqlType.Boolean, pattern.Span, null);
        }
        if (!EsqlTypes.IsString(value.Type))
        {
            throw Error(pattern.Value.Span, $"argument of [{Text(pattern)}] must be [string], found value [{Text(pattern.Value)}] type [{EsqlTypes.Name(value.Type)}]");
        }
        var matchers = ImmutableArray.CreateBuilder<StringMatcher>();
        foreach (var literal in pattern.Patterns)
        {
            try
            {
                var text = (string)literal.Value!;
                matchers.Add(context.Patterns is { } cache ? cache.Get(text, pattern.Regex)
                    : pattern.Regex ? StringMatcher.Lucene(text) : StringMatcher.Like(text));
            }
            catch (PatternException e)
            {
                throw Error(literal.Span, e.Message);
            }
        }
        Evaluator result = new PatternEvaluator(pattern.Span, value, matchers.ToImmutable());
        if (pattern.Negated)
        {
            result = new NotEvaluator(pattern.Span, result);
        }
        return Fold(result);
    }

    private Evaluator BindCast(CastExpr cast)
    {
        var value = Bind(cast.Value);
        var target = EsqlTypes.FromCastName(cast.TypeName)
            ?? throw Error(cast.TypeSpan, $"Unsupported conversion to type [{cast.TypeName}]");
        if (!Conversions.IsSupported(value.Type, target))
        {
            throw Error(cast.Span, $"argument of [{Text(cast)}] must be convertible to [{EsqlTypes.Name(target)}], found value [{Text(cast.Value)}] type [{EsqlTypes.Name(value.Type)}]");
        }
        if (value is ConstantEvaluator constant && constant.Value is not null && EsqlTypes.IsString(constant.Type) && target is EsqlType.Date or EsqlType.Ip or EsqlType.TimeDuration or EsqlType.DatePeriod)
        {
            return Implicit(value, target, cast.Value);
        }
        return Fold(Cast.To(value, target, cast.Span));
    }

    /// <summary>Evaluates an expression whose inputs are all constants once, at bind time.</summary>
    public Evaluator Fold(Evaluator evaluator)
    {
        if (evaluator.IsConstant || !IsFoldable(evaluator))
        {
            return evaluator;
        }
        var page = new Page(1, []);
        var block = evaluator.Eval(page, context);
        return new ConstantEvaluator(evaluator.Type, evaluator.Span, block.BoxPosition(0));
    }

    private static bool IsFoldable(Evaluator evaluator) =>
        evaluator.Children.Count > 0 && evaluator.Children.All(c => c.IsConstant);

    public static EsqlType? CommonType(EsqlType a, EsqlType b)
    {
        a = EsqlTypes.Widen(a);
        b = EsqlTypes.Widen(b);
        if (a == b)
        {
            return a;
        }
        if (a == EsqlType.Null)
        {
            return b;
        }
        if (b == EsqlType.Null)
        {
            return a;
        }
        if (EsqlTypes.IsNumeric(a) && EsqlTypes.IsNumeric(b))
        {
            return a == EsqlType.Double || b == EsqlType.Double ? EsqlType.Double : EsqlType.Long;
        }
        return null;
    }

    public static string Ordinal(int position) => position switch
    {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        5 => "fifth",
        _ => $"{position}th",
    };
}
