using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>
/// <c>summarize aggregates by keys</c> (and distinct and count): rows are grouped by the key expressions, each
/// aggregate is computed per group, and the output has the keys first, then the aggregate columns (each an
/// expression over the aggregates' results, so <c>todouble(count())</c> works). Groups come out in order of first
/// appearance; with no keys there is exactly one row, even over no input.
/// </summary>
internal sealed class SummarizeNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly ImmutableArray<ScalarNode> _keys;
    private readonly ImmutableArray<Aggregate> _aggregates;
    private readonly TableSchema _aggregateSchema;
    private readonly ImmutableArray<ScalarNode> _outputs;

    public SummarizeNode(TabularNode input, TableSchema schema, ImmutableArray<ScalarNode> keys, ImmutableArray<Aggregate> aggregates,
        TableSchema aggregateSchema, ImmutableArray<ScalarNode> outputs)
        : base(schema)
    {
        _input = input;
        _keys = keys;
        _aggregates = aggregates;
        _aggregateSchema = aggregateSchema;
        _outputs = outputs;
    }

    public override RowSet Execute(QueryContext context)
    {
        var input = _input.Execute(context);
        var keyColumns = _keys.Select(k => k.Evaluate(input, context)).ToList();
        var groups = Groups.Of(keyColumns, input.RowCount);
        var columns = new List<Column>(Schema.Count);
        foreach (var key in keyColumns)
        {
            columns.Add(key.Gather(groups.FirstRows));
        }
        var results = new List<Column>();
        foreach (var aggregate in _aggregates)
        {
            var arguments = aggregate.Arguments.Select(a => a.Evaluate(input, context)).ToArray();
            results.AddRange(aggregate.Compute(arguments, groups));
        }
        var aggregateRows = new RowSet(_aggregateSchema, [.. results], groups.Count);
        foreach (var output in _outputs)
        {
            columns.Add(output.Evaluate(aggregateRows, context));
        }
        return new RowSet(Schema, [.. columns], groups.Count);
    }
}
