using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Evaluation;

/// <summary>
/// <c>AND</c> and <c>OR</c> with three-valued logic: false AND null is false, true OR null is true, anything
/// else with a null is null. A multi-valued operand is null with a warning.
/// </summary>
internal sealed class LogicEvaluator(TextSpan span, bool isAnd, Evaluator left, Evaluator right) : Evaluator(EsqlType.Boolean, span)
{
    public override IReadOnlyList<Evaluator> Children => [left, right];

    public override Block Eval(Page page, EvalContext context)
    {
        var l = (Block<bool>)left.Eval(page, context);
        var r = (Block<bool>)right.Eval(page, context);
        var count = page.PositionCount;
        var values = new bool[count];
        if (l.IsDense && r.IsDense)
        {
            var lv = l.Values;
            var rv = r.Values;
            for (var p = 0; p < count; p++)
            {
                values[p] = isAnd ? lv[p] & rv[p] : lv[p] | rv[p];
            }
            return new Block<bool>(EsqlType.Boolean, count, values);
        }
        bool[]? nulls = null;
        for (var p = 0; p < count; p++)
        {
            var a = Read(l, p, context);
            var b = Read(r, p, context);
            bool? result = isAnd
                ? a == false || b == false ? false : a is null || b is null ? null : true
                : a == true || b == true ? true : a is null || b is null ? null : false;
            if (result is { } value)
            {
                values[p] = value;
            }
            else
            {
                nulls ??= new bool[count];
                nulls[p] = true;
            }
        }
        return new Block<bool>(EsqlType.Boolean, count, values, nulls);
    }

    private bool? Read(Block<bool> block, int position, EvalContext context) =>
        BinaryLoop.Single(block, position, Span, context) ? block.Value(position) : null;
}

/// <summary><c>NOT x</c>: null stays null.</summary>
internal sealed class NotEvaluator(TextSpan span, Evaluator operand) : Evaluator(EsqlType.Boolean, span)
{
    public override IReadOnlyList<Evaluator> Children => [operand];

    public override Block Eval(Page page, EvalContext context)
    {
        var block = (Block<bool>)operand.Eval(page, context);
        var count = page.PositionCount;
        if (block.IsConstant)
        {
            return block.IsNull(0) ? block : new Block<bool>(EsqlType.Boolean, count, [!block.Value(0)], constant: true);
        }
        var values = new bool[count];
        bool[]? nulls = null;
        for (var p = 0; p < count; p++)
        {
            if (BinaryLoop.Single(block, p, Span, context))
            {
                values[p] = !block.Value(p);
            }
            else
            {
                nulls ??= new bool[count];
                nulls[p] = true;
            }
        }
        return new Block<bool>(EsqlType.Boolean, count, values, nulls);
    }
}

/// <summary><c>x IS [NOT] NULL</c>: never null itself; a multi-value is not null.</summary>
internal sealed class IsNullEvaluator(TextSpan span, Evaluator operand, bool negated) : Evaluator(EsqlType.Boolean, span)
{
    public override IReadOnlyList<Evaluator> Children => [operand];

    public override Block Eval(Page page, EvalContext context)
    {
        var block = operand.Eval(page, context);
        var count = page.PositionCount;
        if (block.IsConstant)
        {
            return new Block<bool>(EsqlType.Boolean, count, [block.IsNull(0) != negated], constant: true);
        }
        var values = new bool[count];
        for (var p = 0; p < count; p++)
        {
            values[p] = block.IsNull(p) != negated;
        }
        return new Block<bool>(EsqlType.Boolean, count, values);
    }
}

/// <summary>Unary minus on numbers and time spans; the minimum integer or long overflows with a warning.</summary>
internal sealed class NegateEvaluator(TextSpan span, Evaluator operand) : Evaluator(operand.Type, span)
{
    public override IReadOnlyList<Evaluator> Children => [operand];

    public override Block Eval(Page page, EvalContext context)
    {
        var zero = Type switch
        {
            EsqlType.Integer => (Evaluator)new ConstantEvaluator(Type, Span, 0),
            EsqlType.Double => new ConstantEvaluator(Type, Span, 0.0),
            EsqlType.DatePeriod => new ConstantEvaluator(Type, Span, new DatePeriod(0, 0)),
            _ => new ConstantEvaluator(Type, Span, 0L),
        };
        if (Type == EsqlType.Double)
        {
            var block = (Block<double>)operand.Eval(page, context);
            var builder = new BlockBuilder<double>(Type, page.PositionCount);
            for (var p = 0; p < page.PositionCount; p++)
            {
                if (BinaryLoop.Single(block, p, Span, context))
                {
                    builder.Append(-block.Value(p));
                }
                else
                {
                    builder.AppendNull();
                }
            }
            return builder.Build();
        }
        return new ArithmeticEvaluator(Type, Span, BinaryOp.Subtract, zero, operand).Eval(page, context);
    }
}
