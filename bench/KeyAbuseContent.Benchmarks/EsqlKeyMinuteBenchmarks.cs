using BenchmarkDotNet.Attributes;
using DuckDB.NET.Data;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;

namespace KeyAbuseContent.Benchmarks;

/// <summary>
/// Filter, then count by key and one-minute bin, over 10 million events (<see cref="KeyMinuteData"/>): the ES|QL
/// executor against DuckDB on the same data in the same run. Data is loaded into each engine before measuring;
/// the executor's columnar conversion of the table is cached by then, and measured on its own by
/// <see cref="EsqlConvertAndExecute"/>.
/// </summary>
[Config(typeof(ShortRunConfig))]
public class EsqlKeyMinuteBenchmarks : IDisposable
{
    public const string EsqlQuery = "FROM t | WHERE status >= 200 | STATS n = COUNT(*) BY key, minute = DATE_TRUNC(1 minute, @timestamp)";

    private readonly EsqlEngine engine = new();
    private Dictionary<string, DataTable> indices = [];
    private DataTable? table;
    private DuckDBConnection? duckDb;

    [GlobalSetup(Targets = [nameof(EsqlExecute), nameof(EsqlConvertAndExecute)])]
    public void SetUpEsql()
    {
        table = KeyMinuteData.Table(KeyMinuteData.Generate());
        indices = new() { ["t"] = table };
        // Converts the table's columns once; every measured run reads them from the executor's cache.
        var groups = engine.Execute(EsqlQuery + " | STATS groups = COUNT(*)", indices, DateTime.UtcNow).Table.Rows[0][0];
        Console.WriteLine($"// groups: {groups}");
    }

    [GlobalSetup(Targets = [nameof(DuckDbFullResult), nameof(DuckDbFirst1000Rows)])]
    public void SetUpDuckDb() => duckDb = KeyMinuteData.DuckDb();

    /// <summary>The public API: every group is computed; ES|QL returns the first 1000 rows, as without LIMIT.</summary>
    [Benchmark]
    public int EsqlExecute() => engine.Execute(EsqlQuery, indices, DateTime.UtcNow).Table.Rows.Count;

    /// <summary>A new table instance over the same rows: the columnar conversion of the three columns read, then the query.</summary>
    [Benchmark]
    public int EsqlConvertAndExecute()
    {
        var fresh = new DataTable(table!.Name, table.Columns, table.Rows);
        return engine.Execute(EsqlQuery, new Dictionary<string, DataTable> { ["t"] = fresh }, DateTime.UtcNow).Table.Rows.Count;
    }

    /// <summary>Every group computed and kept in DuckDB's own columnar form, nothing sent to .NET.</summary>
    [Benchmark]
    public int DuckDbFullResult() => KeyMinuteData.Execute(duckDb!, $"CREATE OR REPLACE TEMP TABLE r AS {KeyMinuteData.DuckDbQuery}");

    /// <summary>ES|QL's contract: every group computed, the first 1000 rows read by the client.</summary>
    [Benchmark]
    public int DuckDbFirst1000Rows()
    {
        using var command = duckDb!.CreateCommand();
        command.CommandText = KeyMinuteData.DuckDbQuery + " LIMIT 1000";
        using var reader = command.ExecuteReader();
        var rows = 0;
        while (reader.Read())
        {
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
