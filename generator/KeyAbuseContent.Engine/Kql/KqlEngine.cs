using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql.Binding;
using KeyAbuseContent.Engine.Kql.Execution;
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
/// instance, so running many queries over the same tables converts each once.
/// </summary>
public sealed class KqlEngine
{
    private readonly ColumnarCache _columnar = new();

    /// <summary>
    /// Runs <paramref name="query"/>; <paramref name="tables"/> are looked up by name (case-sensitive), <paramref name="functions"/>
    /// are callable by name, and <paramref name="now"/> is what <c>now()</c> and <c>ago()</c> see for the whole query.
    /// </summary>
    public KqlResult Execute(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(functions);
        var source = new SourceText(query, null, null);
        var syntax = KqlParser.ParseQuery(source);
        var context = new QueryContext(DateTime.SpecifyKind(now, DateTimeKind.Utc), new Catalog(tables, functions, _columnar));
        var plan = QueryBinder.Bind(syntax, context);
        var rows = plan.Execute(context);
        return new KqlResult(ResultTables.ToDataTable(rows));
    }

    /// <summary>Parses and binds a query without running it: a <see cref="KqlException"/> says what it refuses.</summary>
    public void Check(string query, IReadOnlyDictionary<string, DataTable> tables, IReadOnlyList<KqlFunction> functions)
    {
        ArgumentNullException.ThrowIfNull(query);
        var syntax = KqlParser.ParseQuery(new SourceText(query, null, null));
        QueryBinder.Bind(syntax, new QueryContext(DateTime.UnixEpoch, new Catalog(tables, functions, _columnar)));
    }
}
