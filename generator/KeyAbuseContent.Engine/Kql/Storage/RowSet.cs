using System.Collections.Immutable;

namespace KeyAbuseContent.Engine.Kql.Storage;

/// <summary>A column of a table schema: its name and KQL type.</summary>
internal sealed record ColumnSymbol(string Name, KqlType Type);

/// <summary>The ordered columns of a table, as the binder knows them before anything runs.</summary>
internal sealed class TableSchema
{
    private readonly Dictionary<string, int> _ordinals;

    public TableSchema(IEnumerable<ColumnSymbol> columns)
    {
        Columns = [.. columns];
        _ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Columns.Length; i++)
        {
            _ordinals.TryAdd(Columns[i].Name, i);
        }
    }

    public static TableSchema Empty { get; } = new([]);

    public ImmutableArray<ColumnSymbol> Columns { get; }

    public int Count => Columns.Length;

    /// <summary>The ordinal of a column, or -1.</summary>
    public int IndexOf(string name) => _ordinals.TryGetValue(name, out var i) ? i : -1;

    public bool Contains(string name) => _ordinals.ContainsKey(name);

    public override string ToString() => string.Join(", ", Columns.Select(c => $"{c.Name}:{c.Type.Name()}"));
}

/// <summary>A table in columnar form: a schema and one column per schema entry, all <see cref="RowCount"/> long.</summary>
internal sealed class RowSet
{
    public RowSet(TableSchema schema, Column[] columns, int rowCount)
    {
        Schema = schema;
        Columns = columns;
        RowCount = rowCount;
    }

    public TableSchema Schema { get; }

    public Column[] Columns { get; }

    public int RowCount { get; }

    /// <summary>The given rows, as lazy views: only the columns read later are copied.</summary>
    public RowSet Select(int[] rows)
    {
        var columns = new Column[Columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = Columns[i].Select(rows);
        }
        return new RowSet(Schema, columns, rows.Length);
    }

    /// <summary>The given rows, copied; -1 makes a row of nulls.</summary>
    public RowSet Gather(int[] rows)
    {
        var columns = new Column[Columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = Columns[i].Gather(rows);
        }
        return new RowSet(Schema, columns, rows.Length);
    }

    /// <summary>The first <paramref name="count"/> rows.</summary>
    public RowSet Take(int count)
    {
        if (count >= RowCount)
        {
            return this;
        }
        var rows = new int[Math.Max(count, 0)];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = i;
        }
        return Select(rows);
    }

    public static RowSet Empty(TableSchema schema)
    {
        var columns = new Column[schema.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = ColumnBuilder.Create(schema.Columns[i].Type, 0).Build();
        }
        return new RowSet(schema, columns, 0);
    }
}
