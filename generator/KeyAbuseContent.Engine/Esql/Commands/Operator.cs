using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>A bound command: it knows its output columns and turns the page of its input into its output.</summary>
internal abstract class Operator(Schema output)
{
    public Schema Output { get; } = output;

    public abstract Page Run(Page input, EvalContext context);
}

/// <summary>WHERE: keeps the rows whose condition is true (null and false are dropped).</summary>
internal sealed class WhereOperator(Schema output, Evaluation.Evaluator condition) : Operator(output)
{
    public override Page Run(Page input, EvalContext context)
    {
        var block = (Block<bool>)condition.Eval(input, context);
        var count = input.PositionCount;
        if (block.IsConstant)
        {
            return block.ValueCount(0) == 1 && block.Value(0) ? input : input.Filter([]);
        }
        if (block.IsDense)
        {
            var selection = Selection(block.Values, count);
            return selection is null ? input : input.Filter(selection);
        }
        var selected = new int[count];
        var n = 0;
        for (var p = 0; p < count; p++)
        {
            if (block.ValueCount(p) == 1 && block.Value(p))
            {
                selected[n++] = p;
            }
        }
        return n == count ? input : input.Filter(selected[..n]);
    }

    /// <summary>
    /// The true positions of a dense condition, counted then written by morsels in parallel; null when every
    /// position is true, so the common filter that keeps everything allocates nothing.
    /// </summary>
    private static int[]? Selection(bool[] values, int count)
    {
        var morsels = Morsels.Count(count);
        var counts = new int[morsels + 1];
        Morsels.For(count, morsels, (m, start, end) =>
        {
            var n = 0;
            for (var p = start; p < end; p++)
            {
                n += values[p] ? 1 : 0;
            }
            counts[m + 1] = n;
        });
        for (var m = 0; m < morsels; m++)
        {
            counts[m + 1] += counts[m];
        }
        if (counts[morsels] == count)
        {
            return null;
        }
        var selected = new int[counts[morsels]];
        Morsels.For(count, morsels, (m, start, end) =>
        {
            var n = counts[m];
            for (var p = start; p < end; p++)
            {
                if (values[p])
                {
                    selected[n++] = p;
                }
            }
        });
        return selected;
    }
}

/// <summary>EVAL: each column computed in turn; a name already present moves to the end with its new value.</summary>
internal sealed class EvalOperator(Schema output, IReadOnlyList<(int Replaced, Evaluation.Evaluator Value)> fields) : Operator(output)
{
    public override Page Run(Page input, EvalContext context)
    {
        var page = input;
        foreach (var (replaced, value) in fields)
        {
            var block = value.Eval(page, context);
            if (replaced >= 0)
            {
                var keep = Enumerable.Range(0, page.ColumnCount).Where(i => i != replaced).ToList();
                page = page.Project(keep);
            }
            page = page.Append(block);
        }
        return page;
    }
}

/// <summary>KEEP, DROP and RENAME: a choice and order of the input's columns.</summary>
internal sealed class ProjectOperator(Schema output, IReadOnlyList<int> columns) : Operator(output)
{
    public override Page Run(Page input, EvalContext context) => input.Project(columns);
}

/// <summary>LIMIT: the first rows.</summary>
internal sealed class LimitOperator(Schema output, int limit) : Operator(output)
{
    public int Limit { get; } = limit;

    public override Page Run(Page input, EvalContext context) =>
        input.PositionCount <= Limit ? input : input.Filter([.. Enumerable.Range(0, Limit)]);
}
