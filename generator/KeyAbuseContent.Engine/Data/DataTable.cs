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
/// own columnar forms inside; this is the interchange at their edges.
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

    public string Name { get; }

    public IReadOnlyList<ColumnSchema> Columns { get; }

    public IReadOnlyList<object?[]> Rows { get; }

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
