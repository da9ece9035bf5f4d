using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Evaluation;

/// <summary>A binary operation on single values; false with a Java-style failure message makes the row null with a warning.</summary>
internal interface IBinaryKernel<TL, TR, TO>
{
    static abstract bool TryApply(TL left, TR right, out TO result, out string? failure);
}

/// <summary>
/// Runs a binary kernel over two blocks. Rows where both sides hold one value each go through a tight loop
/// (the common case: dense columns and constants); nulls give null, and a multi-value gives null with a
/// warning, the left side checked first as Elasticsearch does.
/// </summary>
internal static class BinaryLoop
{
    public static Block Run<TL, TR, TO, TKernel>(Block left, Block right, int count, EsqlType type, TextSpan span, EvalContext context)
        where TKernel : IBinaryKernel<TL, TR, TO>
    {
        var l = (Block<TL>)left;
        var r = (Block<TR>)right;
        var values = new TO[count];
        bool[]? nulls = null;
        if (IsSingle(l) && IsSingle(r))
        {
            if (l.IsConstant && r.IsConstant)
            {
                if (!TKernel.TryApply(l.Value(0), r.Value(0), out var result, out var failure))
                {
                    context.Warnings.Failure(span, failure!);
                    return Block.AllNull(type, count);
                }
                return new Block<TO>(type, count, [result], constant: true);
            }
            // Morsels run in parallel; their failures are replayed in position order, so the warnings are the same.
            var morsels = Morsels.Count(count);
            var failures = new List<(int Position, string Message)>?[morsels];
            Morsels.For(count, morsels, (m, start, end) => failures[m] = Dense<TL, TR, TO, TKernel>(l, r, values, start, end));
            foreach (var list in failures)
            {
                foreach (var (position, message) in list ?? [])
                {
                    nulls ??= new bool[count];
                    nulls[position] = true;
                    context.Warnings.Failure(span, message);
                }
            }
            return new Block<TO>(type, count, values, nulls);
        }
        nulls = new bool[count];
        for (var p = 0; p < count; p++)
        {
            if (!Single(l, p, span, context) || !Single(r, p, span, context))
            {
                nulls[p] = true;
                continue;
            }
            if (!TKernel.TryApply(l.Values[l.FirstValueIndex(p)], r.Values[r.FirstValueIndex(p)], out values[p], out var failure))
            {
                nulls[p] = true;
                context.Warnings.Failure(span, failure!);
            }
        }
        return new Block<TO>(type, count, values, nulls);
    }

    /// <summary>Whether every position holds exactly one value.</summary>
    public static bool IsSingle(Block block) => block.FirstValues is null && block.Nulls is null;

    /// <summary>Whether a position holds exactly one value; a multi-value warns.</summary>
    public static bool Single(Block block, int position, TextSpan span, EvalContext context)
    {
        var n = block.ValueCount(position);
        if (n == 1)
        {
            return true;
        }
        if (n > 1)
        {
            context.Warnings.MultiValue(span);
        }
        return false;
    }

    /// <summary>The kernel over positions [start, end) of two single-valued blocks (one may be constant); the failures, if any.</summary>
    private static List<(int, string)>? Dense<TL, TR, TO, TKernel>(Block<TL> l, Block<TR> r, TO[] values, int start, int end)
        where TKernel : IBinaryKernel<TL, TR, TO>
    {
        List<(int, string)>? failures = null;
        var lv = l.Values;
        var rv = r.Values;
        if (!l.IsConstant && !r.IsConstant)
        {
            for (var p = start; p < end; p++)
            {
                if (!TKernel.TryApply(lv[p], rv[p], out values[p], out var failure))
                {
                    (failures ??= []).Add((p, failure!));
                }
            }
        }
        else if (r.IsConstant)
        {
            var c = r.Value(0);
            for (var p = start; p < end; p++)
            {
                if (!TKernel.TryApply(lv[p], c, out values[p], out var failure))
                {
                    (failures ??= []).Add((p, failure!));
                }
            }
        }
        else
        {
            var c = l.Value(0);
            for (var p = start; p < end; p++)
            {
                if (!TKernel.TryApply(c, rv[p], out values[p], out var failure))
                {
                    (failures ??= []).Add((p, failure!));
                }
            }
        }
        return failures;
    }
}
