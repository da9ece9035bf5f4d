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
}
