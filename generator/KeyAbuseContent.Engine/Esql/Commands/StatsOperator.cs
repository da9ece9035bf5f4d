using KeyAbuseContent.Engine.Esql.Aggregation;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>
/// STATS and INLINE STATS. The keys group the rows; each aggregate call runs over its group's (filtered)
/// values; each output expression is then computed per group over the aggregate results and the keys.
/// STATS returns one row a group, aggregates first and keys after. INLINE STATS keeps every input row and adds
/// its group's aggregates (then the keys) after the input columns they do not replace.
/// </summary>
internal sealed class StatsOperator(
    Schema output,
    IReadOnlyList<Evaluator> keys,
    IReadOnlyList<AggregateSpec> aggregates,
    IReadOnlyList<Evaluator> outputs,
    IReadOnlyList<int>? inlineKept) : Operator(output)
{
    public override Page Run(Page input, EvalContext context)
    {
        var count = input.PositionCount;
        var keyBlocks = keys.Select(k => k.Eval(input, context)).ToArray();
        var grouping = keys.Count == 0 ? Grouping.Single(count) : Grouping.Build(keyBlocks, count);
        var groupCount = grouping.GroupCount;
        var results = new List<Block>(grouping.Keys);
        foreach (var spec in aggregates)
        {
            var values = spec.Argument?.Eval(input, context) ?? Block.AllNull(Types.EsqlType.Null, count);
            var aggregator = spec.Aggregator.Fresh();
            if (spec.Extra is { } extra && aggregator is WeightedAverageAggregator weighted)
            {
                weighted.Weights = extra.Eval(input, context);
            }
            var (rows, groups) = Filtered(grouping, spec.Filter, input, context);
            aggregator.Add(values, rows, groups, groupCount);
            results.Add(aggregator.Result(groupCount, context));
        }
        var groupsPage = new Page(groupCount, results);
        var blocks = outputs.Select(o => o.Eval(groupsPage, context).Materialize(groupCount)).Concat(grouping.Keys).ToList();
        if (inlineKept is null)
        {
            return new Page(groupCount, blocks);
        }
        // INLINE STATS: every (row, group) pair becomes a row with the group's values.
        var rowsPage = grouping.IsIdentity ? input : input.Filter(grouping.Rows);
        var pairGroups = grouping.Groups;
        var inline = rowsPage.Project(inlineKept);
        foreach (var block in blocks)
        {
            inline = inline.Append(block.Select(pairGroups));
        }
        return inline;
    }

    private static (int[] Rows, int[] Groups) Filtered(Grouping grouping, Evaluator? filter, Page input, EvalContext context)
    {
        if (filter is null)
        {
            return (grouping.Rows, grouping.Groups);
        }
        var mask = (Block<bool>)filter.Eval(input, context);
        var rows = new List<int>(grouping.Rows.Length);
        var groups = new List<int>(grouping.Rows.Length);
        for (var i = 0; i < grouping.Rows.Length; i++)
        {
            var r = grouping.Rows[i];
            if (mask.ValueCount(r) == 1 && mask.Value(r))
            {
                rows.Add(r);
                groups.Add(grouping.Groups[i]);
            }
        }
        return ([.. rows], [.. groups]);
    }
}
