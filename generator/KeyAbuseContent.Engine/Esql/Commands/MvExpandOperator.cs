using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Planning;

namespace KeyAbuseContent.Engine.Esql.Commands;

/// <summary>MV_EXPAND field: one row per value of the field, the other columns repeated; a null stays one row.</summary>
internal sealed class MvExpandOperator(Schema output, int column) : Operator(output)
{
    public override Page Run(Page input, EvalContext context)
    {
        var block = input.Block(column);
        if (!block.MayHaveMultiValues)
        {
            return input;
        }
        var rows = new List<int>(input.PositionCount);
        var builder = BlockBuilder.Create(block.Type, input.PositionCount);
        for (var p = 0; p < input.PositionCount; p++)
        {
            var n = block.ValueCount(p);
            if (n == 0)
            {
                rows.Add(p);
                builder.AppendNull();
                continue;
            }
            var first = block.FirstValueIndex(p);
            for (var i = 0; i < n; i++)
            {
                rows.Add(p);
                builder.AppendBoxed(block.BoxValue(first + i));
            }
        }
        var others = Enumerable.Range(0, input.ColumnCount).Where(c => c != column).ToList();
        var expanded = input.Filter([.. rows]);
        var page = expanded.Project(others).Append(builder.Build());
        // Put the expanded column back in its place.
        var order = new List<int>();
        for (var c = 0; c < input.ColumnCount; c++)
        {
            order.Add(c < column ? c : c == column ? input.ColumnCount - 1 : c - 1);
        }
        return page.Project(order);
    }
}
