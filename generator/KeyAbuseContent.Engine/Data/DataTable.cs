using System.Collections.Immutable;

namespace KeyAbuseContent.Engine.Data;

/// <summary>
/// A column's name and its type, spelled in the dialect of the engine that reads or wrote it:
/// KQL type names (<c>string</c>, <c>long</c>, <c>real</c>, <c>datetime</c>, <c>timespan</c>, <c>dynamic</c>, ...)
/// or Elasticsearch/ES|QL ones (<c>keyword</c>, <c>long</c>, <c>double</c>, <c>date</c>, <c>ip</c>, ...).
/// </summary>
public sealed record ColumnSchema(string Name, string Type);

/// <summary>
/// The table both executors take and give: rows of values in a neutral representation. A value is
/// null, <see cref="bool"/>, <see cref="int"/>, <see cref="long"/>, <see cref="double"/>, <see cref="string"/>,
/// <see cref="DateTime"/> (UTC), <see cref="TimeSpan"/>, <see cref="System.Text.Json.Nodes.JsonNode"/> (KQL dynamic),
/// <see cref="Guid"/>, or an <see cref="ImmutableArray{T}"/> of object (an ES|QL multi-value). Engines keep their
/// own columnar forms inside; this is the interchange at their edges. A large input table may hold its values in
/// <see cref="TypedColumns"/> instead of rows: the engines then build their columns from the typed arrays, and
/// <see cref="Rows"/> builds a row only when one is read.
/// </summary>
public sealed class DataTable
{
    public DataTable(string name, IReadOnlyList<ColumnSchema> columns, IReadOnlyList<object?[]> rows)
    {
        Name = name;
        Columns = columns;
        Rows = rows;
        foreach (var row in rows)
        {
            if (row.Length != columns.Count)
            {
                throw new ArgumentException($"table {name}: a row has {row.Length} values for {columns.Count} columns", nameof(rows));
            }
        }
    }

    /// <summary>A table whose values are held column by column; one typed column a schema column.</summary>
    public DataTable(string name, IReadOnlyList<ColumnSchema> columns, TypedColumns data)
    {
        if (data.Columns.Count != columns.Count)
        {
            throw new ArgumentException($"table {name}: {data.Columns.Count} typed columns for {columns.Count} columns", nameof(data));
        }
        Name = name;
        Columns = columns;
        Data = data;
        Rows = new TypedRows(data);
    }

    public string Name { get; }

    /// <summary>The typed columns the table holds its values in; null for a table of rows.</summary>
    public TypedColumns? Data { get; }

    public IReadOnlyList<ColumnSchema> Columns { get; }

    /// <summary>The rows; for a table of <see cref="Data"/>, each is built when read (engines read the typed columns instead).</summary>
    public IReadOnlyList<object?[]> Rows { get; }

    /// <summary>A value by row and column, without building the row of a table of <see cref="Data"/>.</summary>
    public object? Value(int row, int column) => Data is { } data ? data.Value(row, column) : Rows[row][column];

    /// <summary>The index of a column, or -1.</summary>
    public int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (Columns[i].Name == column)
            {
                return i;
            }
        }
        return -1;
    }
}
