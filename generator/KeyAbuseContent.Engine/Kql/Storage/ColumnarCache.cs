using System.Runtime.CompilerServices;
using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Engine.Kql.Storage;

/// <summary>
/// Columnar copies of input tables, one per <see cref="DataTable"/> instance for as long as it lives, so that the
/// many runs of a scheduled rule over the same dataset convert each table once.
/// </summary>
internal sealed class ColumnarCache
{
    private readonly ConditionalWeakTable<DataTable, RowSet> _tables = [];

    public RowSet Get(DataTable table) => _tables.GetValue(table, Convert);

    /// <summary>A table's rows in columns; a value that is not of its column's type is an error naming the table, row and column.</summary>
    public static RowSet Convert(DataTable table)
    {
        var schema = new List<ColumnSymbol>();
        foreach (var column in table.Columns)
        {
            if (!KqlTypes.TryParse(column.Type, out var type))
            {
                throw new KqlException(KqlErrorKind.Runtime, $"table {table.Name}: column '{column.Name}' has type '{column.Type}', which is not a KQL type", 1, 1);
            }
            schema.Add(new ColumnSymbol(column.Name, type));
        }
        var columns = new Column[schema.Count];
        for (var c = 0; c < columns.Length; c++)
        {
            var type = schema[c].Type;
            var builder = ColumnBuilder.Create(type, table.Rows.Count);
            for (var r = 0; r < table.Rows.Count; r++)
            {
                var value = table.Rows[r][c];
                if (value is System.Collections.IList and not System.Text.Json.Nodes.JsonNode && type == KqlType.Dynamic)
                {
                    throw new KqlException(KqlErrorKind.Runtime, $"table {table.Name}: row {r + 1}, column '{schema[c].Name}' holds a multi-value list; KQL dynamic values are JSON nodes", 1, 1);
                }
                if (value is System.Text.Json.Nodes.JsonNode node)
                {
                    // A private, fully built copy: JsonNodes build themselves lazily, which is not safe to share between
                    // threads, and the caller's nodes stay the caller's.
                    value = node.DeepClone();
                }
                if (!builder.Add(value))
                {
                    throw new KqlException(KqlErrorKind.Runtime, $"table {table.Name}: row {r + 1}, column '{schema[c].Name}' ({type.Name()}) holds {Describe(value!)}", 1, 1);
                }
            }
            columns[c] = builder.Build();
        }
        return new RowSet(new TableSchema(schema), columns, table.Rows.Count);
    }

    private static string Describe(object value) => $"the {value.GetType().Name} '{value}', which does not convert";
}
