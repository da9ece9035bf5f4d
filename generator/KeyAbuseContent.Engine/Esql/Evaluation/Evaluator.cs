using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Evaluation;

/// <summary>A bound, typed expression that computes a block from a page, all rows at once.</summary>
internal abstract class Evaluator(EsqlType type, TextSpan span)
{
    public EsqlType Type { get; } = type;

    /// <summary>The expression's text span: warnings and errors name it.</summary>
    public TextSpan Span { get; } = span;

    /// <summary>Whether the value is known when the query is bound (literals and calls over them, folded).</summary>
    public virtual bool IsConstant => false;

    /// <summary>The evaluators this one reads; one whose children are all constant is folded when bound.</summary>
    public virtual IReadOnlyList<Evaluator> Children => [];

    public abstract Block Eval(Page page, EvalContext context);
}

/// <summary>A literal or a folded constant expression; the value is in storage types (see <see cref="Block"/>).</summary>
internal sealed class ConstantEvaluator(EsqlType type, TextSpan span, object? value) : Evaluator(type, span)
{
    public object? Value { get; } = value;

    public override bool IsConstant => true;

    public bool IsNull => Value is null;

    public override Block Eval(Page page, EvalContext context) => Block.Constant(Type, Value, page.PositionCount);
}

/// <summary>
/// NOW(): the run's time, read when the plan runs rather than folded when it is bound, so one plan serves every
/// scheduled run of a query.
/// </summary>
internal sealed class NowEvaluator(TextSpan span) : Evaluator(EsqlType.Date, span)
{
    public override Block Eval(Page page, EvalContext context) => Block.Constant(Type, context.NowMillis, page.PositionCount);
}

/// <summary>A column of the page.</summary>
internal sealed class FieldEvaluator(EsqlType type, TextSpan span, string name, int index) : Evaluator(type, span)
{
    public string Name { get; } = name;

    public int Index { get; } = index;

    public override Block Eval(Page page, EvalContext context) => page.Block(Index);
}

/// <summary>How a function treats a position holding several values.</summary>
internal enum MultiValueMode
{
    /// <summary>Null with a warning, as every single-value function of ES|QL.</summary>
    Refuse,

    /// <summary>Applied to each value (conversion functions); values that fail are dropped with a warning.</summary>
    PerValue,

    /// <summary>The function takes the whole position: an <see cref="ImmutableArray{T}"/> of values or a single value.</summary>
    Whole,
}

/// <summary>A scalar function over single values in storage types; it throws <see cref="EvaluationFailure"/> for a row that fails.</summary>
internal delegate object? ScalarFunction(ReadOnlySpan<object?> args);

/// <summary>
/// The general evaluator of a function: position by position, with nulls, multi-values and failures handled
/// here once. The hot paths (comparisons, arithmetic, logic, DATE_TRUNC) have typed evaluators of their own.
/// </summary>
internal sealed class ScalarEvaluator(
    EsqlType type,
    TextSpan span,
    ImmutableArray<Evaluator> args,
    ScalarFunction function,
    MultiValueMode multiValues = MultiValueMode.Refuse,
    bool nullsPropagate = true) : Evaluator(type, span)
{
    public ImmutableArray<Evaluator> Args { get; } = args;

    public override IReadOnlyList<Evaluator> Children => Args;

    public override Block Eval(Page page, EvalContext context)
    {
        var blocks = new Block[Args.Length];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = Args[i].Eval(page, context);
        }
        var count = page.PositionCount;
        var builder = BlockBuilder.Create(Type, count);
        var values = new object?[blocks.Length];
        for (var p = 0; p < count; p++)
        {
            builder.AppendBoxed(EvalPosition(blocks, values, p, context));
        }
        return builder.Build();
    }

    private object? EvalPosition(Block[] blocks, object?[] values, int position, EvalContext context)
    {
        for (var i = 0; i < blocks.Length; i++)
        {
            var block = blocks[i];
            var n = block.ValueCount(position);
            if (n == 0)
            {
                if (nullsPropagate)
                {
                    return null;
                }
                values[i] = null;
            }
            else if (n == 1)
            {
                values[i] = block.BoxValue(block.FirstValueIndex(position));
            }
            else if (multiValues == MultiValueMode.Whole)
            {
                values[i] = block.BoxPosition(position);
            }
            else if (multiValues == MultiValueMode.PerValue && blocks.Length == 1)
            {
                return EvalEach(block, position, context);
            }
            else
            {
                context.Warnings.MultiValue(Span);
                return null;
            }
        }
        try
        {
            return function(values);
        }
        catch (EvaluationFailure failure)
        {
            context.Warnings.Failure(Span, failure.Message);
            return null;
        }
    }

    private object? EvalEach(Block block, int position, EvalContext context)
    {
        var first = block.FirstValueIndex(position);
        var n = block.ValueCount(position);
        var results = ImmutableArray.CreateBuilder<object?>(n);
        var one = new object?[1];
        for (var i = 0; i < n; i++)
        {
            one[0] = block.BoxValue(first + i);
            try
            {
                if (function(one) is { } result)
                {
                    results.Add(result);
                }
            }
            catch (EvaluationFailure failure)
            {
                context.Warnings.Failure(Span, failure.Message);
            }
        }
        return results.Count switch
        {
            0 => null,
            1 => results[0],
            _ => results.ToImmutable(),
        };
    }
}
