using DuckDB.NET.Data;
using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Benchmarks;

/// <summary>
/// The benchmark's events, the same for every engine: 10 million requests of 1,000 keys (uniform) over 7 days in time
/// order, as a log index holds them; status 200 (95%), 429 (2%), 500 (1%), 401 (1%) and 403 (1%). Fixed seed.
/// </summary>
public static class KeyMinuteData
{
    public const int Rows = 10_000_000;

    /// <summary>The benchmark's query in DuckDB's SQL: filter, then count by key and minute.</summary>
    public const string DuckDbQuery = "SELECT key, date_trunc('minute', ts) AS minute, count(*) FROM t WHERE status >= 200 GROUP BY ALL";
    public const int Keys = 1_000;
    public static readonly DateTime Start = new(2026, 11, 23, 0, 0, 0, DateTimeKind.Utc);
    public static readonly TimeSpan Span = TimeSpan.FromDays(7);

    /// <summary>Column by column: key, status, timestamp (epoch milliseconds).</summary>
    public static (string[] Key, int[] Status, long[] Millis) Generate()
    {
        var random = new Random(20261207);
        var names = Enumerable.Range(0, Keys).Select(k => $"key-{k:D4}").ToArray();
        var key = new string[Rows];
        var status = new int[Rows];
        var millis = new long[Rows];
        var start = (long)(Start - DateTime.UnixEpoch).TotalMilliseconds;
        var step = Span.TotalMilliseconds / Rows;
        for (var i = 0; i < Rows; i++)
        {
            key[i] = names[random.Next(Keys)];
            status[i] = random.Next(100) switch
            {
                0 => 401,
                1 => 403,
                2 => 500,
                3 or 4 => 429,
                _ => 200,
            };
            millis[i] = start + (long)(i * step);
        }
        return (key, status, millis);
    }

    /// <summary>The events as the executors' interchange table <c>t</c>: <c>@timestamp</c> (date), <c>key</c> (keyword), <c>status</c> (integer).</summary>
    public static DataTable Table((string[] Key, int[] Status, long[] Millis) data)
    {
        var boxedStatus = new Dictionary<int, object>();
        var rows = new object?[data.Key.Length][];
        for (var i = 0; i < rows.Length; i++)
        {
            var s = data.Status[i];
            if (!boxedStatus.TryGetValue(s, out var box))
            {
                boxedStatus[s] = box = s;
            }
            rows[i] = [DateTime.UnixEpoch.AddMilliseconds(data.Millis[i]), data.Key[i], box];
        }
        return new DataTable("t", [new("@timestamp", "date"), new("key", "keyword"), new("status", "integer")], rows);
    }

    /// <summary>An in-memory DuckDB with the events in table <c>t</c> (key, status, ts), using every core.</summary>
    public static DuckDBConnection DuckDb()
    {
        var (key, status, millis) = Generate();
        var duckDb = new DuckDBConnection("DataSource=:memory:");
        duckDb.Open();
        Execute(duckDb, $"SET threads TO {Environment.ProcessorCount}");
        Execute(duckDb, "CREATE TABLE t (key VARCHAR, status INTEGER, ts TIMESTAMP)");
        using (var appender = duckDb.CreateAppender("t"))
        {
            for (var i = 0; i < key.Length; i++)
            {
                appender.CreateRow().AppendValue(key[i]).AppendValue(status[i]).AppendValue(DateTime.UnixEpoch.AddMilliseconds(millis[i])).EndRow();
            }
        }
        using var command = duckDb.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM ({DuckDbQuery})";
        Console.WriteLine($"// groups: {command.ExecuteScalar()}");
        return duckDb;
    }

    /// <summary>Runs a statement; returns DuckDB's count of changed rows.</summary>
    public static int Execute(DuckDBConnection duckDb, string sql)
    {
        using var command = duckDb.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }
}
