using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution;

/// <summary>Turns a result in columns into the interchange table.</summary>
internal static class ResultTables
{
    public static DataTable ToDataTable(RowSet rows)
    {
        var columns = rows.Schema.Columns.Select(c => new ColumnSchema(c.Name, c.Type.Name())).ToList();
        var materialized = rows.Columns.Select(c => c.Materialize()).ToArray();
        var result = new List<object?[]>(rows.RowCount);
        for (var r = 0; r < rows.RowCount; r++)
        {
            var row = new object?[materialized.Length];
            for (var c = 0; c < row.Length; c++)
            {
                var value = materialized[c].GetValue(r);
                // Nodes may be shared with the input or with each other; callers get their own.
                row[c] = value is JsonNode node ? node.DeepClone() : value;
            }
            result.Add(row);
        }
        return new DataTable("result", columns, result);
    }

    /// <summary>
    /// The rows in typed columns (no boxed row), when every column is a string, long, real or datetime; null
    /// otherwise. The arrays are the engine's own, trimmed to the row count and never changed afterwards.
    /// </summary>
    public static DataTable? ToTypedDataTable(RowSet rows, string name)
    {
        var count = rows.RowCount;
        var typed = new List<TypedColumn>(rows.Columns.Length);
        foreach (var column in rows.Columns.Select(c => c.Materialize()))
        {
            TypedColumn? converted = column switch
            {
                StringColumn s => new StringValues(Trim(s.Values, count)),
                ValueColumn<long> l when l.Type == KqlType.Long => new LongValues(Trim(l.Values, count), Trim(l.Nulls, count)),
                ValueColumn<long> t when t.Type == KqlType.DateTime => new DateTimeValues(Trim(t.Values, count), Trim(t.Nulls, count)),
                ValueColumn<double> d => new DoubleValues(Trim(d.Values, count), Trim(d.Nulls, count)),
                _ => null,
            };
            if (converted is null)
            {
                return null;
            }
            typed.Add(converted);
        }
        return new DataTable(name, [.. rows.Schema.Columns.Select(c => new ColumnSchema(c.Name, c.Type.Name()))], new TypedColumns(typed));
    }

    private static T[] Trim<T>(T[] values, int count) => values.Length == count ? values : values[..count];

    private static bool[]? Trim(bool[]? nulls, int count) => nulls is null ? null : Trim<bool>(nulls, count);
}
