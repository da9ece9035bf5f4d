using System.Collections.Immutable;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql.Commands;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Planning;

/// <summary>A bound query: the source's page and schema, then one operator a command, ending with the implicit limit.</summary>
internal sealed record Plan(Schema SourceSchema, Page SourcePage, ImmutableArray<Operator> Operators)
{
    public Schema Output => Operators.IsEmpty ? SourceSchema : Operators[^1].Output;
}

/// <summary>
/// Binds a parsed query command by command against the columns each command sees, so every unknown name,
/// type error and unsupported construct is reported before any row is read.
/// </summary>
internal sealed class QueryPlanner(Query query, IReadOnlyDictionary<string, DataTable> indices, (DateTime From, DateTime To)? window, EvalContext context)
{
    /// <summary>Rows a query returns without LIMIT (Elasticsearch's <c>esql.query.result_truncation_default_size</c>).</summary>
    public const int DefaultLimit = 1000;

    /// <summary>The most rows any query returns (<c>esql.query.result_truncation_max_size</c>).</summary>
    public const int MaxLimit = 10000;

    public int DefaultLimitRows { get; init; } = DefaultLimit;

    public int MaxLimitRows { get; init; } = MaxLimit;

    private SourceText Source => query.Source;

    public Plan Build()
    {
        var (schema, page) = BindSource(query.SourceCommand);
        var sourceSchema = schema;
        var operators = ImmutableArray.CreateBuilder<Operator>();
        var hasLimit = false;
        foreach (var command in query.Commands)
        {
            var op = BindCommand(command, schema);
            hasLimit |= command is LimitCommand;
            operators.Add(op);
            schema = op.Output;
        }
        // As Elasticsearch does: a query without LIMIT returns at most the default; one with LIMIT at most the maximum.
        operators.Add(new LimitOperator(schema, hasLimit ? MaxLimitRows : DefaultLimitRows));
        return new Plan(sourceSchema, page, operators.ToImmutable());
    }

    private (Schema, Page) BindSource(Command command)
    {
        switch (command)
        {
            case FromCommand from:
                {
                    FromSource.CheckMetadata(from, Source);
                    return FromSource.Load(from, indices, window, Source);
                }
            case RowCommand row:
                {
                    var schema = Schema.Empty;
                    var page = new Page(1, []);
                    foreach (var field in row.Fields)
                    {
                        var value = new Binder(Source, schema, context).Bind(field.Value);
                        var block = value.Eval(page, context).Materialize(1);
                        var replaced = schema.IndexOf(field.Name);
                        var attributes = schema.Attributes;
                        if (replaced >= 0)
                        {
                            page = page.Project([.. Enumerable.Range(0, page.ColumnCount).Where(i => i != replaced)]);
                            attributes = attributes.RemoveAt(replaced);
                        }
                        page = page.Append(block);
                        schema = new Schema(attributes.Add(new Attribute(field.Name, value.Type)));
                    }
                    return (schema, page);
                }
            default:
                throw Source.Error(command.Span, "a query starts with FROM or ROW");
        }
    }

    private Operator BindCommand(Command command, Schema schema) => command switch
    {
        WhereCommand where => new WhereOperator(schema, Bind(schema).BindCondition(where.Condition, "WHERE")),
        EvalCommand eval => BindEval(eval, schema),
        KeepCommand keep => Projections.Keep(keep, schema, Source),
        DropCommand drop => Projections.Drop(drop, schema, Source),
        RenameCommand rename => Projections.Rename(rename, schema, Source),
        SortCommand sort => BindSort(sort, schema),
        LimitCommand limit => new LimitOperator(schema, limit.Count),
        StatsCommand stats => StatsBinder.Bind(stats, schema, Source, context),
        _ => throw Source.Error(command.Span, $"[{Source.Slice(command.Span).Split(' ')[0].ToUpperInvariant()}] is not supported yet by the embedded executor"),
    };

    private Binder Bind(Schema schema) => new(Source, schema, context);

    private EvalOperator BindEval(EvalCommand eval, Schema schema)
    {
        var fields = new List<(int, Evaluator)>();
        foreach (var field in eval.Fields)
        {
            var value = Bind(schema).Bind(field.Value);
            var replaced = schema.IndexOf(field.Name);
            var attributes = schema.Attributes;
            if (replaced >= 0)
            {
                attributes = attributes.RemoveAt(replaced);
            }
            fields.Add((replaced, value));
            schema = new Schema(attributes.Add(new Attribute(field.Name, value.Type)));
        }
        return new EvalOperator(schema, fields);
    }

    private SortOperator BindSort(SortCommand sort, Schema schema)
    {
        var keys = new List<SortSpec>();
        foreach (var key in sort.Keys)
        {
            var value = Bind(schema).Bind(key.Value);
            if (value.Type is EsqlType.DatePeriod or EsqlType.TimeDuration)
            {
                throw Source.Error(key.Value.Span, $"cannot sort on [{Source.Slice(key.Value.Span)}] of type [{EsqlTypes.Name(value.Type)}]");
            }
            keys.Add(new SortSpec(value, key.Descending, key.NullsFirst));
        }
        return new SortOperator(schema, keys);
    }
}
