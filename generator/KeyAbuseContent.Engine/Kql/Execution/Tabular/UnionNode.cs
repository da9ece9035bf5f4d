using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>
/// <c>union</c>: the rows of every input one after another. Each output column takes the input column mapped to it
/// (<see cref="Mappings"/>, -1 for none: nulls); an optional source column names the input each row came from.
/// </summary>
internal sealed class UnionNode : TabularNode
{
    private readonly ImmutableArray<TabularNode> _inputs;
    private readonly ImmutableArray<ImmutableArray<int>> _mappings;
    private readonly ImmutableArray<string> _sourceNames;
    private readonly int _sourceColumn;

    public UnionNode(TableSchema schema, ImmutableArray<TabularNode> inputs, ImmutableArray<ImmutableArray<int>> mappings, ImmutableArray<string> sourceNames, int sourceColumn)
        : base(schema)
    {
        _inputs = inputs;
        _mappings = mappings;
        _sourceNames = sourceNames;
        _sourceColumn = sourceColumn;
    }

    public ImmutableArray<ImmutableArray<int>> Mappings => _mappings;

    public override RowSet Execute(QueryContext context)
    {
        var parts = _inputs.Select(i => i.Execute(context)).ToList();
        var total = parts.Sum(p => p.RowCount);
        var columns = new Column[Schema.Count];
        for (var c = 0; c < columns.Length; c++)
        {
            var type = Schema.Columns[c].Type;
            var pieces = new List<Column>(parts.Count);
            for (var p = 0; p < parts.Count; p++)
            {
                if (c == _sourceColumn)
                {
                    pieces.Add(new ConstantColumn(KqlType.String, _sourceNames[p], parts[p].RowCount));
                    continue;
                }
                var ordinal = _mappings[p][c];
                pieces.Add(ordinal < 0 ? new ConstantColumn(type, null, parts[p].RowCount) : parts[p].Columns[ordinal]);
            }
            columns[c] = Concatenation.Concat(type, pieces, total);
        }
        return new RowSet(Schema, columns, total);
    }
}

/// <summary>Columns one after another, copied by type.</summary>
internal static class Concatenation
{
    public static Column Concat(KqlType type, IReadOnlyList<Column> pieces, int total)
    {
        if (pieces.Count == 1)
        {
            return pieces[0];
        }
        var materialized = pieces.Select(p => p.Materialize()).ToList();
        switch (type)
        {
            case KqlType.String when materialized.All(p => p is StringColumn):
                var strings = new string[total];
                var at = 0;
                foreach (StringColumn s in materialized)
                {
                    Array.Copy(s.Values, 0, strings, at, s.Count);
                    at += s.Count;
                }
                return new StringColumn(strings, total);
            default:
                var builder = ColumnBuilder.Create(type, total);
                foreach (var piece in materialized)
                {
                    for (var i = 0; i < piece.Count; i++)
                    {
                        builder.Add(piece.GetValue(i));
                    }
                }
                return builder.Build();
        }
    }
}
