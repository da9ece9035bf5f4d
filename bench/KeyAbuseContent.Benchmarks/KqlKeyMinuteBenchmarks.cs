using BenchmarkDotNet.Attributes;
using DuckDB.NET.Data;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;

namespace KeyAbuseContent.Benchmarks;

/// <summary>
/// Filter, then count by key and one-minute bin, over 10 million events (<see cref="KeyMinuteData"/>): the KQL
/// executor against DuckDB on the same data in the same run. KQL returns every group (about 6.3 million rows), so
/// DuckDB is measured both keeping the groups in its own columnar form and handing every row to .NET. Data is loaded
/// into each engine before measuring; the executor's columnar conversion of the table is cached by then.
/// </summary>
[Config(typeof(ShortRunConfig))]
public class KqlKeyMinuteBenchmarks : IDisposable
{
    public const string KqlQuery = "t | where status >= 200 | summarize n = count() by key, minute = bin(timestamp, 1m)";

    private readonly KqlEngine engine = new();
    private Dictionary<string, DataTable> tables = [];
    private DuckDBConnection? duckDb;

    [GlobalSetup(Targets = [nameof(KqlExecute), nameof(KqlGroupCount)])]
    public void SetUpKql()
    {
        var table = KeyMinuteData.Table(KeyMinuteData.Generate());
        // The same rows, under KQL's type names.
        tables = new() { ["t"] = new DataTable("t", [new("timestamp", "datetime"), new("key", "string"), new("status", "int")], table.Rows) };
        var groups = engine.Execute(KqlQuery + " | count", tables, [], DateTime.UtcNow).Table.Rows[0][0];
        Console.WriteLine($"// groups: {groups}");
    }

    [GlobalSetup(Targets = [nameof(DuckDbFullResult), nameof(DuckDbAllRowsToClient)])]
    public void SetUpDuckDb() => duckDb = KeyMinuteData.DuckDb();

    /// <summary>The public API: every group computed and returned as a <see cref="DataTable"/> of rows.</summary>
    [Benchmark]
    public int KqlExecute() => engine.Execute(KqlQuery, tables, [], DateTime.UtcNow).Table.Rows.Count;

    /// <summary>Every group computed in the executor's columns, only their number returned (the executor's core, without the row conversion).</summary>
    [Benchmark]
    public long KqlGroupCount() => (long)engine.Execute(KqlQuery + " | count", tables, [], DateTime.UtcNow).Table.Rows[0][0]!;

    /// <summary>Every group computed and kept in DuckDB's own columnar form, nothing sent to .NET.</summary>
    [Benchmark]
    public int DuckDbFullResult() => KeyMinuteData.Execute(duckDb!, $"CREATE OR REPLACE TEMP TABLE r AS {KeyMinuteData.DuckDbQuery}");

    /// <summary>Every group computed and every row read by the client, as the KQL executor returns them.</summary>
    [Benchmark]
    public int DuckDbAllRowsToClient()
    {
        using var command = duckDb!.CreateCommand();
        command.CommandText = KeyMinuteData.DuckDbQuery;
        using var reader = command.ExecuteReader();
        var rows = 0;
        var values = new object[3];
        while (reader.Read())
        {
            reader.GetValues(values);
            rows++;
        }
        return rows;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        duckDb?.Dispose();
        duckDb = null;
        GC.SuppressFinalize(this);
    }
}
