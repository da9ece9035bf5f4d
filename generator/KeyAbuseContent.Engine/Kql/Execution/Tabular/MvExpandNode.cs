using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>One expanded column: its expression, where its values go (a replaced column, or appended), and their type.</summary>
internal sealed record MvExpandColumn(ScalarNode Expr, int OutputOrdinal, KqlType Type);

/// <summary>
/// <c>mv-expand</c>: each element of an array (each property of a bag, as a one-property bag or with kind=array a
/// [key, value] pair) becomes a row; several columns expand side by side, the shorter padded with nulls. A null
/// expands to one row with null, an empty array or bag to no row. <c>to typeof(T)</c> converts the elements.
/// </summary>
internal sealed class MvExpandNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly ImmutableArray<MvExpandColumn> _columns;
    private readonly bool _bagAsArray;
    private readonly int _indexOrdinal;
    private readonly ScalarNode? _limit;

    public MvExpandNode(TabularNode input, TableSchema schema, ImmutableArray<MvExpandColumn> columns, bool bagAsArray, int indexOrdinal, ScalarNode? limit)
        : base(schema)
    {
        _input = input;
        _columns = columns;
        _bagAsArray = bagAsArray;
        _indexOrdinal = indexOrdinal;
        _limit = limit;
    }

    public override RowSet Execute(QueryContext context)
    {
        var input = _input.Execute(context);
        var limit = _limit is null ? long.MaxValue : ColumnViews.ConstantLong(_limit.Evaluate(SingleRow, context).GetValue(0)) ?? long.MaxValue;
        var values = _columns.Select(c => c.Expr.Evaluate(input, context).Materialize()).ToArray();
        var sourceRows = new List<int>();
        var indexes = new List<long>();
        var builders = _columns.Select(c => ColumnBuilder.Create(c.Type, input.RowCount)).ToArray();
        var elements = new List<object?>[_columns.Length];
        for (var r = 0; r < input.RowCount; r++)
        {
            var count = 0;
            for (var c = 0; c < _columns.Length; c++)
            {
                elements[c] = Elements(values[c].GetValue(r));
                count = Math.Max(count, elements[c].Count);
            }
            for (var i = 0; i < count && i < limit; i++)
            {
                sourceRows.Add(r);
                indexes.Add(i);
                for (var c = 0; c < _columns.Length; c++)
                {
                    builders[c].Add(i < elements[c].Count ? elements[c][i] : null);
                }
            }
        }
        var rows = sourceRows.ToArray();
        var selected = input.Select(rows);
        var columns = new Column[Schema.Count];
        for (var i = 0; i < input.Schema.Count; i++)
        {
            columns[i] = selected.Columns[i];
        }
        for (var c = 0; c < _columns.Length; c++)
        {
            columns[_columns[c].OutputOrdinal] = builders[c].Build();
        }
        if (_indexOrdinal >= 0)
        {
            columns[_indexOrdinal] = new ValueColumn<long>(KqlType.Long, [.. indexes], null, rows.Length);
        }
        return new RowSet(Schema, columns, rows.Length);
    }

    private List<object?> Elements(object? value)
    {
        switch (value)
        {
            case JsonArray array:
                return [.. array];
            case JsonObject bag:
                return [.. bag.Select(p => (object?)(_bagAsArray
                    ? new JsonArray(JsonValue.Create(p.Key), Scalars.Detached(p.Value))
                    : new JsonObject { [p.Key] = Scalars.Detached(p.Value) }))];
            default:
                return [value];
        }
    }
}
