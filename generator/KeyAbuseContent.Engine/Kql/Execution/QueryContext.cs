using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution;

/// <summary>The tables and stored functions a query may name, with their columnar copies.</summary>
internal sealed class Catalog
{
    private readonly IReadOnlyDictionary<string, DataTable> _tables;
    private readonly Dictionary<string, KqlFunction> _functions;
    private readonly ColumnarCache _columnar;

    public Catalog(IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, ColumnarCache columnar)
    {
        _tables = tables;
        _columnar = columnar;
        _functions = new Dictionary<string, KqlFunction>(StringComparer.Ordinal);
        foreach (var f in functions)
        {
            _functions[f.Name] = f;
        }
    }

    public bool TryGetTable(string name, out RowSet rows)
    {
        if (_tables.TryGetValue(name, out var table))
        {
            rows = _columnar.Get(table);
            return true;
        }
        rows = null!;
        return false;
    }

    public bool TryGetFunction(string name, out KqlFunction function) => _functions.TryGetValue(name, out function!);
}

/// <summary>What one run of a query shares: its clock, its catalog, and the results it computes once (materialize, toscalar, subqueries).</summary>
internal sealed class QueryContext
{
    private readonly Dictionary<object, object> _once = new(ReferenceEqualityComparer.Instance);

    public QueryContext(DateTime now, Catalog catalog)
    {
        Now = now;
        Catalog = catalog;
    }

    /// <summary>The query's now(), fixed for the whole query.</summary>
    public DateTime Now { get; }

    public Catalog Catalog { get; }

    /// <summary>How many times a materialize() body ran; a test hook for "evaluated once".</summary>
    public int MaterializeEvaluations { get; set; }

    /// <summary>The value <paramref name="compute"/> gives for <paramref name="key"/>, computed on first use in this run.</summary>
    public T Once<T>(object key, Func<T> compute)
        where T : class
    {
        if (_once.TryGetValue(key, out var value))
        {
            return (T)value;
        }
        var computed = compute();
        _once[key] = computed;
        return computed;
    }
}
