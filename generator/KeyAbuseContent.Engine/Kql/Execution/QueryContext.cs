using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution;

/// <summary>
/// The tables and stored functions a query may name, with their columnar copies. Every name the binder looks up is
/// recorded with what it found, so that a bound plan can be reused exactly when the same names find the same things.
/// </summary>
internal sealed class Catalog
{
    private readonly IReadOnlyDictionary<string, DataTable> _tables;
    private readonly Dictionary<string, KqlFunction> _functions;
    private readonly ColumnarCache _columnar;
    private readonly List<CatalogLookup> _lookups = [];
    private readonly Dictionary<string, RowSet> _slices = new(StringComparer.Ordinal);

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

    /// <summary>The same tables and functions, with no lookups recorded yet.</summary>
    public Catalog Fresh() => new(_tables, _functions, _columnar);

    private Catalog(IReadOnlyDictionary<string, DataTable> tables, Dictionary<string, KqlFunction> functions, ColumnarCache columnar)
    {
        _tables = tables;
        _functions = functions;
        _columnar = columnar;
    }

    /// <summary>What binding looked up, in order.</summary>
    public IReadOnlyList<CatalogLookup> Lookups => _lookups;

    /// <summary>A table's schema, for binding; its rows are converted only when a plan reads them (<see cref="Rows"/>).</summary>
    public bool TryGetTable(string name, out TableSchema schema)
    {
        if (_tables.TryGetValue(name, out var table))
        {
            _lookups.Add(new CatalogLookup(name, false, table.Columns, null));
            schema = ColumnarCache.Schema(table);
            return true;
        }
        _lookups.Add(new CatalogLookup(name, false, null, null));
        schema = null!;
        return false;
    }

    /// <summary>
    /// A table's rows in columns, for a plan that bound it by name. A slice (which the engine does not keep: it is
    /// a view of its whole table's conversion) is made once per catalog, i.e. once per run.
    /// </summary>
    public RowSet Rows(string name)
    {
        var table = _tables[name];
        if (!ColumnarCache.IsSlice(table))
        {
            return _columnar.Get(table);
        }
        lock (_slices)
        {
            if (!_slices.TryGetValue(name, out var rows))
            {
                _slices[name] = rows = _columnar.Get(table);
            }
            return rows;
        }
    }

    /// <summary>The address matches kept for a converted column (see <see cref="ColumnarCache.AddressMatches"/>).</summary>
    public Tabular.AddressMatches AddressMatches(Column column) => _columnar.AddressMatches(column);

    public bool TryGetFunction(string name, out KqlFunction function)
    {
        var found = _functions.TryGetValue(name, out function!);
        _lookups.Add(new CatalogLookup(name, true, null, found ? function : null));
        return found;
    }

    /// <summary>Whether looking up <paramref name="lookup"/>'s name here finds what it found when it was recorded.</summary>
    public bool Finds(CatalogLookup lookup)
    {
        if (lookup.IsFunction)
        {
            var found = _functions.TryGetValue(lookup.Name, out var function);
            return lookup.Function is null ? !found : found && SameFunction(lookup.Function, function!);
        }
        var exists = _tables.TryGetValue(lookup.Name, out var table);
        return lookup.Columns is null ? !exists : exists && (ReferenceEquals(lookup.Columns, table!.Columns) || lookup.Columns.SequenceEqual(table.Columns));
    }

    private static bool SameFunction(KqlFunction a, KqlFunction b) =>
        ReferenceEquals(a, b) || (a.Name == b.Name && a.Body == b.Body && a.Parameters.SequenceEqual(b.Parameters));
}

/// <summary>One name the binder looked up in the catalog and what it found: a table's columns, a function, or nothing.</summary>
internal sealed record CatalogLookup(string Name, bool IsFunction, IReadOnlyList<ColumnSchema>? Columns, KqlFunction? Function);

/// <summary>What one run of a query shares: its clock, its catalog, and the results it computes once (materialize, toscalar, subqueries).</summary>
internal sealed class QueryContext
{
    private readonly Dictionary<object, object> _once = new(ReferenceEqualityComparer.Instance);

    private readonly DateTime _now;

    public QueryContext(DateTime now, Catalog catalog)
    {
        _now = now;
        Catalog = catalog;
    }

    /// <summary>The query's now(), fixed for the whole query.</summary>
    public DateTime Now
    {
        get
        {
            NowRead = true;
            return _now;
        }
    }

    /// <summary>Whether anything read <see cref="Now"/>: a plan whose binding read it holds the clock and is not reused.</summary>
    public bool NowRead { get; private set; }

    public Catalog Catalog { get; }

    /// <summary>How many times a materialize() body ran; a test hook for "evaluated once".</summary>
    public int MaterializeEvaluations { get; set; }

    /// <summary>How many times a tabular let's query ran; a test hook for "evaluated once".</summary>
    public int LetEvaluations { get; set; }

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
