using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Harness.Datasets;

namespace KeyAbuseContent.Harness.Engines;

/// <summary>
/// What a platform shows one query run: its clock (<c>now()</c>, <c>NOW()</c>) and, when the platform bounds the
/// data, the time window of the sources (both ends included; null for a query the platform does not bound).
/// </summary>
public sealed record QueryScope(DateTime Now, DateTime? From = null, DateTime? To = null);

/// <summary>
/// The engine the Sentinel runner runs KQL on: the embedded executor by default, or a real cluster
/// (<see cref="KustoEngine"/>). The runner hands every run the tables cut to its window (what the embedded engine
/// reads) and the scope (what a remote engine, which holds the whole workspace, applies itself).
/// </summary>
public interface IKqlQueryEngine
{
    /// <summary>Once, before any run: the whole workspace (every table with all its rows) and the functions.</summary>
    void Load(IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions);

    /// <summary>Rows written to a table by the harness between runs (a summary rule's or a refresh's output).</summary>
    void Append(string table, IReadOnlyList<ColumnSchema> columns, IReadOnlyList<object?[]> rows);

    /// <summary>Runs a query; <paramref name="tables"/> is the workspace as the run may read it. Safe to call from several threads.</summary>
    DataTable Execute(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, QueryScope scope);
}

/// <summary>
/// The engine the Elastic runner runs a rule's ES|QL on: the embedded executor by default, or a real cluster
/// (<see cref="ElasticsearchEngine"/>).
/// </summary>
public interface IEsqlQueryEngine
{
    /// <summary>Once, before any run: the dataset and the indices the harness made of it.</summary>
    void Load(Dataset dataset, IReadOnlyDictionary<string, DataTable> indices);

    /// <summary>
    /// Runs a query with <c>NOW()</c> the scope's time and, when it has one, the scope's window as a range on
    /// <c>@timestamp</c>; <paramref name="indices"/> holds every index as of the run (lookup indices change between runs).
    /// </summary>
    DataTable Execute(string query, IReadOnlyDictionary<string, DataTable> indices, QueryScope scope);
}

/// <summary>The embedded KQL executor behind <see cref="IKqlQueryEngine"/>: it reads the tables it is given, nothing is loaded.</summary>
public sealed class EmbeddedKqlEngine(KqlEngine engine) : IKqlQueryEngine
{
    public KqlEngine Engine { get; } = engine;

    public void Load(IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions)
    {
    }

    public void Append(string table, IReadOnlyList<ColumnSchema> columns, IReadOnlyList<object?[]> rows)
    {
    }

    public DataTable Execute(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, QueryScope scope) =>
        Engine.Execute(query, tables, functions, scope.Now).Table;
}

/// <summary>The embedded ES|QL executor behind <see cref="IEsqlQueryEngine"/>.</summary>
public sealed class EmbeddedEsqlEngine(EsqlEngine engine) : IEsqlQueryEngine
{
    public void Load(Dataset dataset, IReadOnlyDictionary<string, DataTable> indices)
    {
    }

    // The embedded window's end is exclusive; Kibana's range includes now, and dates have millisecond precision.
    public DataTable Execute(string query, IReadOnlyDictionary<string, DataTable> indices, QueryScope scope) =>
        engine.Execute(query, indices, scope.Now, scope is { From: { } from, To: { } to } ? (from, to + TimeSpan.FromMilliseconds(1)) : null).Table;
}

/// <summary>A real engine failed or could not be reached: the message says which, and what it answered.</summary>
public sealed class RemoteEngineException(string message, Exception? inner = null) : Exception(message, inner);
