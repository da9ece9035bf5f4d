using System.Collections.Immutable;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;

namespace KeyAbuseContent.Tests.Engine.Esql;

/// <summary>Small tables and one-line runs for the ES|QL executor's tests.</summary>
internal static class EsqlTestKit
{
    public static readonly DateTime Now = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>A table from "name:type" column specs and rows.</summary>
    public static DataTable Table(string name, string[] columns, params object?[][] rows) =>
        new(name, [.. columns.Select(c => c.Split(':') is var parts ? new ColumnSchema(parts[0], parts[1]) : null!)], rows);

    public static ImmutableArray<object?> Many(params object?[] values) => [.. values];

    public static DateTime Time(string iso) => DateTime.Parse(iso, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);

    public static EsqlResult Run(string query, params DataTable[] tables) =>
        new EsqlEngine().Execute(query, tables.ToDictionary(t => t.Name), Now);

    /// <summary>The one value of a one-row, one-column result.</summary>
    public static object? Value(string query, params DataTable[] tables)
    {
        var table = Run(query, tables).Table;
        var row = Assert.Single(table.Rows);
        return Assert.Single(row);
    }

    /// <summary>The values of one column of the result.</summary>
    public static List<object?> Column(string query, string column, params DataTable[] tables)
    {
        var table = Run(query, tables).Table;
        var index = table.IndexOf(column);
        Assert.True(index >= 0, $"no column {column}");
        return [.. table.Rows.Select(r => r[index])];
    }

    public static EsqlException Error(string query, params DataTable[] tables) =>
        Assert.Throws<EsqlException>(() => Run(query, tables));
}
