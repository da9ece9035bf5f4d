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
        // A parser's union of the pack's table with vendor tables that are empty (the usual case) is the one
        // non-empty input: passed on as it is, a view or a deferred expression stays unread until a later filter
        // has narrowed it, instead of being copied whole on every run.
        var nonEmpty = pieces.Where(p => p.Count > 0).ToList();
        if (nonEmpty.Count == 1 && nonEmpty[0].Type == type)
        {
            return nonEmpty[0];
        }
        var materialized = nonEmpty.Select(p => p.Materialize()).ToList();
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
            case KqlType.Long or KqlType.DateTime or KqlType.TimeSpan when materialized.All(p => p is ValueColumn<long> && p.Type == type):
                return ConcatValues<long>(type, materialized, total);
            case KqlType.Real when materialized.All(p => p is ValueColumn<double> && p.Type == type):
                return ConcatValues<double>(type, materialized, total);
            case KqlType.Int when materialized.All(p => p is ValueColumn<int> && p.Type == type):
                return ConcatValues<int>(type, materialized, total);
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

    private static ValueColumn<T> ConcatValues<T>(KqlType type, List<Column> pieces, int total)
        where T : unmanaged
    {
        var values = new T[total];
        bool[]? nulls = null;
        var at = 0;
        foreach (ValueColumn<T> piece in pieces)
        {
            Array.Copy(piece.Values, 0, values, at, piece.Count);
            if (piece.Nulls is not null)
            {
                nulls ??= new bool[total];
                Array.Copy(piece.Nulls, 0, nulls, at, piece.Count);
            }
            at += piece.Count;
        }
        return new ValueColumn<T>(type, values, nulls, total);
    }
}
