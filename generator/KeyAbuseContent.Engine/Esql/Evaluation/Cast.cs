using System.Collections.Immutable;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Evaluation;

/// <summary>Conversions of a whole block: numeric widening in typed loops, everything else value by value.</summary>
internal static class Cast
{
    /// <summary>An evaluator of <paramref name="inner"/> converted to <paramref name="to"/>; failing values become null with a warning.</summary>
    public static Evaluator To(Evaluator inner, EsqlType to, TextSpan span)
    {
        var from = inner.Type;
        if (from == to)
        {
            return inner;
        }
        if (from == EsqlType.Null)
        {
            return new ConstantEvaluator(to, span, null);
        }
        if (inner is ConstantEvaluator constant)
        {
            return Fold(constant, to, span);
        }
        if (EsqlTypes.Widen(from) == EsqlTypes.Widen(to) || (from is EsqlType.Long or EsqlType.Date && to is EsqlType.Long or EsqlType.Date))
        {
            return new RetypeEvaluator(to, span, inner);
        }
        if (from == EsqlType.Integer && to == EsqlType.Long)
        {
            return new WidenEvaluator<int, long>(to, span, inner, static v => v);
        }
        if (from == EsqlType.Integer && to == EsqlType.Double)
        {
            return new WidenEvaluator<int, double>(to, span, inner, static v => v);
        }
        if (from == EsqlType.Long && to == EsqlType.Double)
        {
            return new WidenEvaluator<long, double>(to, span, inner, static v => v);
        }
        return new ScalarEvaluator(to, span, [inner], args => Conversions.Convert(args[0]!, from, to), MultiValueMode.PerValue);
    }

    private static ConstantEvaluator Fold(ConstantEvaluator constant, EsqlType to, TextSpan span)
    {
        if (constant.Value is null)
        {
            return new ConstantEvaluator(to, span, null);
        }
        if (constant.Value is ImmutableArray<object?> many)
        {
            return new ConstantEvaluator(to, span, many.Select(v => Conversions.Convert(v!, constant.Type, to)).Cast<object?>().ToImmutableArray());
        }
        return new ConstantEvaluator(to, span, Conversions.Convert(constant.Value, constant.Type, to));
    }

    /// <summary>The same values under another type name (text and keyword, long and date).</summary>
    private sealed class RetypeEvaluator(EsqlType type, TextSpan span, Evaluator inner) : Evaluator(type, span)
    {
        public override IReadOnlyList<Evaluator> Children => [inner];

        public override Block Eval(Page page, EvalContext context) => Retype(inner.Eval(page, context), Type);
    }

    public static Block Retype(Block block, EsqlType type)
    {
        if (block.Type == type)
        {
            return block;
        }
        return block switch
        {
            Block<string> s => s.WithType(type),
            Block<long> l => l.WithType(type),
            Block<bool> b => b.WithType(type),
            _ => throw new InvalidOperationException($"cannot retype {block.Type} as {type}"),
        };
    }

    private sealed class WidenEvaluator<TFrom, TTo>(EsqlType type, TextSpan span, Evaluator inner, Func<TFrom, TTo> widen) : Evaluator(type, span)
    {
        public override IReadOnlyList<Evaluator> Children => [inner];

        public override Block Eval(Page page, EvalContext context)
        {
            var block = (Block<TFrom>)inner.Eval(page, context);
            var source = block.Values;
            var positions = block.IsConstant ? 1 : block.PositionCount;
            var values = new TTo[block.FirstValues is { } first ? first[positions] : positions];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = widen(source[i]);
            }
            return new Block<TTo>(Type, block.PositionCount, values, block.Nulls, block.FirstValues, block.IsConstant);
        }
    }
}
