using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Storage;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Binding;

/// <summary>What a let name stands for.</summary>
internal abstract record Symbol;

internal sealed record ScalarSymbol(ScalarNode Node) : Symbol;

internal sealed record TableSymbol(TabularNode Node) : Symbol;

/// <summary>A let function: its syntax and the scope it was defined in (it sees the lets before it).</summary>
internal sealed record FunctionSymbol(LetFunctionSyntax Syntax, Scope Closure, SourceText Source) : Symbol;

/// <summary>A lexical scope of let names; inner scopes shadow outer ones.</summary>
internal sealed class Scope
{
    private readonly Dictionary<string, Symbol> _symbols = new(StringComparer.Ordinal);

    public Scope(Scope? parent)
    {
        Parent = parent;
    }

    public Scope? Parent { get; }

    public void Declare(string name, Symbol symbol) => _symbols[name] = symbol;

    public Symbol? Lookup(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._symbols.TryGetValue(name, out var symbol))
            {
                return symbol;
            }
        }
        return null;
    }
}

/// <summary>
/// What names mean inside a scalar expression: the columns of the row being computed, the two sides of a join
/// condition, or, inside summarize, the aggregates collected so far (an aggregate's arguments see the input row).
/// </summary>
internal sealed class RowContext
{
    public RowContext(TableSchema schema)
    {
        Schema = schema;
    }

    public TableSchema Schema { get; }

    /// <summary>Set while binding summarize's aggregate expressions.</summary>
    public AggregateCollector? Aggregates { get; init; }

    public static RowContext None { get; } = new(TableSchema.Empty);
}

/// <summary>The aggregates a summarize item calls, and the columns their results occupy (the row its outer expression sees).</summary>
internal sealed class AggregateCollector
{
    private readonly List<ColumnSymbol> _columns = [];

    public AggregateCollector(TableSchema input)
    {
        Input = input;
    }

    /// <summary>The schema aggregate arguments are bound against.</summary>
    public TableSchema Input { get; }

    public List<Aggregate> Aggregates { get; } = [];

    public TableSchema Schema => new(_columns);

    /// <summary>Adds an aggregate; returns the ordinal of its first result column in <see cref="Schema"/>.</summary>
    public int Add(Aggregate aggregate)
    {
        var first = _columns.Count;
        Aggregates.Add(aggregate);
        foreach (var type in aggregate.OutputTypes)
        {
            _columns.Add(new ColumnSymbol($"$aggregate{_columns.Count}", type));
        }
        return first;
    }
}
