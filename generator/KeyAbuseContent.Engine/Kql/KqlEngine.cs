using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql.Binding;
using KeyAbuseContent.Engine.Kql.Execution;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Storage;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql;

/// <summary>A stored function (a Sentinel parser or saved function) callable as <c>Name(args)</c>; its body is KQL text, with or without braces.</summary>
public sealed record KqlFunction(string Name, IReadOnlyList<(string Name, string Type)> Parameters, string Body);

/// <summary>The table a query produced, with KQL type names on its columns.</summary>
public sealed record KqlResult(DataTable Table);

/// <summary>
/// An embedded executor for a subset of KQL (see Kql/README.md): parses a query, binds it against in-memory tables
/// and stored functions, and runs it over columnar copies of the tables. Columnar copies are kept per table
/// instance, so running many queries over the same tables converts each once; bound plans are kept per query text,
/// so the thousands of scheduled runs of a rule parse and bind it once.
/// </summary>
public sealed class KqlEngine
{
    /// <summary>Plans kept for one query text: enough for the few catalogs one caller binds it against.</summary>
    private const int PlansPerQuery = 4;

    private readonly ColumnarCache _columnar = new();
    private readonly Dictionary<string, List<BoundPlan>> _plans = new(StringComparer.Ordinal);
    private readonly Lock _plansLock = new();

    /// <summary>A plan and the catalog lookups its binding made: it serves a run whose catalog finds the same things.</summary>
    private sealed record BoundPlan(TabularNode Plan, IReadOnlyList<CatalogLookup> Lookups);

    /// <summary>
    /// Runs <paramref name="query"/>; <paramref name="tables"/> are looked up by name (case-sensitive), <paramref name="functions"/>
    /// are callable by name, and <paramref name="now"/> is what <c>now()</c> and <c>ago()</c> see for the whole query.
    /// </summary>
    public KqlResult Execute(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, DateTime now) =>
        new(ResultTables.ToDataTable(Run(query, tables, functions, now)));

    /// <summary>
    /// Runs <paramref name="query"/> as <see cref="Execute"/> does and gives its rows in typed columns named
    /// <paramref name="name"/>, for a result that other queries read as a table (no boxed row a value); null when a
    /// column is of a type typed columns do not hold (only string, long, real and datetime are).
    /// </summary>
    public DataTable? ExecuteColumns(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, DateTime now, string name) =>
        ResultTables.ToTypedDataTable(Run(query, tables, functions, now), name);

    private RowSet Run(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(functions);
        var catalog = new Catalog(tables, functions, _columnar);
        var context = new QueryContext(DateTime.SpecifyKind(now, DateTimeKind.Utc), catalog);
        var plan = CachedPlan(query, catalog) ?? Bind(query, catalog, now);
        return plan.Execute(context);
    }

    /// <summary>Parses and binds a query without running it: a <see cref="KqlException"/> says what it refuses.</summary>
    public void Check(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions)
    {
        ArgumentNullException.ThrowIfNull(query);
        var syntax = KqlParser.ParseQuery(new SourceText(query, null, null));
        QueryBinder.Bind(syntax, new QueryContext(DateTime.UnixEpoch, new Catalog(tables, functions, _columnar)));
    }

    private TabularNode? CachedPlan(string query, Catalog catalog)
    {
        lock (_plansLock)
        {
            if (_plans.TryGetValue(query, out var plans))
            {
                foreach (var plan in plans)
                {
                    if (plan.Lookups.All(catalog.Finds))
                    {
                        return plan.Plan;
                    }
                }
            }
        }
        return null;
    }

    /// <summary>Binds with a catalog of its own, so the lookups recorded are the binding's; kept unless binding read the clock.</summary>
    private TabularNode Bind(string query, Catalog catalog, DateTime now)
    {
        var syntax = KqlParser.ParseQuery(new SourceText(query, null, null));
        var bindContext = new QueryContext(DateTime.SpecifyKind(now, DateTimeKind.Utc), catalog.Fresh());
        var plan = QueryBinder.Bind(syntax, bindContext);
        if (!bindContext.NowRead)
        {
            lock (_plansLock)
            {
                if (!_plans.TryGetValue(query, out var plans))
                {
                    _plans[query] = plans = [];
                }
                if (plans.Count == PlansPerQuery)
                {
                    plans.RemoveAt(0);
                }
                plans.Add(new BoundPlan(plan, bindContext.Catalog.Lookups));
            }
        }
        return plan;
    }
}
