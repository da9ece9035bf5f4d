using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;

namespace KeyAbuseContent.Tests.Engine.Kql;

/// <summary>Runs queries with the embedded KQL executor over small tables, at a fixed now.</summary>
internal static class KqlTestKit
{
    public static readonly DateTime Now = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    public static DataTable Run(string query, params DataTable[] tables) => Run(query, tables, []);

    public static DataTable Run(string query, IEnumerable<DataTable> tables, IReadOnlyList<KqlFunction> functions, DateTime? now = null) =>
        new KqlEngine().Execute(query, tables.ToDictionary(t => t.Name), functions, now ?? Now).Table;

    public static KqlException Fails(string query, params DataTable[] tables) => Assert.Throws<KqlException>(() => Run(query, tables));

    /// <summary>A table from a header of <c>name:type</c> pairs and rows.</summary>
    public static DataTable Table(string name, string header, params object?[][] rows)
    {
        var columns = header.Split(',').Select(c => c.Trim().Split(':')).Select(p => new ColumnSchema(p[0], p[1])).ToList();
        return new DataTable(name, columns, rows);
    }

    /// <summary>The single value of a one-row, one-column result.</summary>
    public static object? Scalar(string query, params DataTable[] tables)
    {
        var result = Run(query, tables);
        return Assert.Single(Assert.Single(result.Rows));
    }

    /// <summary>A column's values, in row order.</summary>
    public static List<object?> Column(DataTable table, string name)
    {
        var i = table.IndexOf(name);
        Assert.True(i >= 0, $"no column {name} in {string.Join(", ", table.Columns.Select(c => c.Name))}");
        return [.. table.Rows.Select(r => r[i])];
    }

    public static List<string> Names(DataTable table) => [.. table.Columns.Select(c => c.Name)];

    public static List<string> Schema(DataTable table) => [.. table.Columns.Select(c => $"{c.Name}:{c.Type}")];

    public static DateTime At(string text) => DateTime.SpecifyKind(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
}
