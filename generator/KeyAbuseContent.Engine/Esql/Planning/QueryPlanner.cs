using System.Collections.Immutable;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql.Commands;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Patterns;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Planning;

/// <summary>
/// A bound query: the source's schema, then one operator a command, ending with the implicit limit. A plan over FROM
/// holds no rows: each run reads the page of its own indices and window (<see cref="FromSource.Read"/>) and LOOKUP
/// JOIN its own lookup table, so the plan serves every run whose indices have the names and columns in
/// <see cref="Inputs"/> (and, when binding read NOW(), only runs at <see cref="BoundNow"/>).
/// </summary>
internal sealed record Plan(Schema SourceSchema, ImmutableArray<Operator> Operators)
{
    public Schema Output => Operators.IsEmpty ? SourceSchema : Operators[^1].Output;

    /// <summary>ROW's page, made when the plan is bound; null for FROM, whose page each run reads.</summary>
    public Page? RowPage { get; init; }

    /// <summary>The FROM command whose indices each run reads; null for ROW.</summary>
    public FromCommand? From { get; init; }

    /// <summary>The indices the plan was bound against, by name with their columns: FROM's matches first, then LOOKUP JOIN's.</summary>
    public ImmutableArray<(string Name, IReadOnlyList<ColumnSchema> Columns)> Inputs { get; init; } = [];

    /// <summary>How many of <see cref="Inputs"/> FROM matched.</summary>
    public int FromInputs { get; init; }

    /// <summary>The run time binding computed with, when it read NOW() (BUCKET's range, for instance); null when it did not.</summary>
    public long? BoundNow { get; init; }

    /// <summary>The warnings binding raised (a constant expression that fails), replayed into every run of the plan.</summary>
    public IReadOnlyList<(TextSpan? Expression, string Text)> BindWarnings { get; init; } = [];
}

/// <summary>
/// Binds a parsed query command by command against the columns each command sees, so every unknown name,
/// type error and unsupported construct is reported before any row is read.
/// </summary>
internal sealed class QueryPlanner(Query query, IReadOnlyDictionary<string, DataTable> indices, EvalContext context)
{
    /// <summary>Rows a query returns without LIMIT (Elasticsearch's <c>esql.query.result_truncation_default_size</c>).</summary>
    public const int DefaultLimit = 1000;

    /// <summary>The most rows any query returns (<c>esql.query.result_truncation_max_size</c>).</summary>
    public const int MaxLimit = 10000;

    public int DefaultLimitRows { get; init; } = DefaultLimit;

    public int MaxLimitRows { get; init; } = MaxLimit;

    private SourceText Source => query.Source;

    private readonly ImmutableArray<(string Name, IReadOnlyList<ColumnSchema> Columns)>.Builder _inputs = ImmutableArray.CreateBuilder<(string, IReadOnlyList<ColumnSchema>)>();

    private int _fromInputs;

    public Plan Build()
    {
        context.Warnings.StartJournal();
        var (schema, rowPage) = BindSource(query.SourceCommand);
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
        return new Plan(sourceSchema, operators.ToImmutable())
        {
            RowPage = rowPage,
            From = query.SourceCommand as FromCommand,
            Inputs = _inputs.ToImmutable(),
            FromInputs = _fromInputs,
            BoundNow = context.NowReadAtBind ? context.NowMillis : null,
            BindWarnings = [.. context.Warnings.Journal],
        };
    }

    private (Schema, Page?) BindSource(Command command)
    {
        switch (command)
        {
            case FromCommand from:
                {
                    FromSource.CheckMetadata(from, Source);
                    var (tables, schema) = FromSource.Bind(from, indices, Source);
                    foreach (var (name, table) in tables)
                    {
                        _inputs.Add((name, table.Columns));
                    }
                    _fromInputs = tables.Count;
                    return (schema, null);
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
        LookupJoinCommand join => BindLookupJoin(join, schema),
        MvExpandCommand expand => BindMvExpand(expand, schema),
        DissectCommand dissect => BindDissect(dissect, schema),
        GrokCommand grok => BindGrok(grok, schema),
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

    private LookupJoinOperator BindLookupJoin(LookupJoinCommand join, Schema schema)
    {
        var name = join.Index.Pattern;
        if (name.Contains('*', StringComparison.Ordinal))
        {
            throw Source.Error(join.Index.Span, $"invalid index pattern [{name}], * is not allowed in LOOKUP JOIN");
        }
        if (!indices.TryGetValue(name, out var lookup))
        {
            throw Source.Error(join.Index.Span, $"Unknown index [{name}]");
        }
        _inputs.Add((name, lookup.Columns));
        var inputKeys = new List<int>();
        var lookupKeys = new List<int>();
        var keyTypes = new List<EsqlType>();
        foreach (var field in join.On)
        {
            var left = schema.IndexOf(field.Name);
            if (left < 0)
            {
                throw Source.Error(field.Span, $"Unknown column [{field.Name}] in left side of join");
            }
            var right = lookup.IndexOf(field.Name);
            if (right < 0)
            {
                throw Source.Error(field.Span, $"Unknown column [{field.Name}] in right side of join");
            }
            var leftType = EsqlTypes.Widen(schema[left].Type);
            var rightType = EsqlTypes.Widen(TableImport.ColumnType(lookup, right));
            var keyType = leftType == rightType || rightType == EsqlType.Null ? leftType
                : EsqlTypes.IsNumeric(leftType) && EsqlTypes.IsNumeric(rightType) ? Binder.CommonType(leftType, rightType)!.Value
                : throw Source.Error(field.Span, $"JOIN left field [{field.Name}] of type [{EsqlTypes.Name(schema[left].Type)}] is incompatible with right field [{field.Name}] of type [{EsqlTypes.Name(TableImport.ColumnType(lookup, right))}]");
            if (keyType != leftType)
            {
                throw Source.Error(field.Span, $"JOIN left field [{field.Name}] of type [{EsqlTypes.Name(schema[left].Type)}] is incompatible with right field [{field.Name}] of type [{EsqlTypes.Name(TableImport.ColumnType(lookup, right))}]");
            }
            inputKeys.Add(left);
            lookupKeys.Add(right);
            keyTypes.Add(keyType);
        }
        var keyNames = join.On.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var added = Enumerable.Range(0, lookup.Columns.Count)
            .Where(c => !keyNames.Contains(lookup.Columns[c].Name) && !lookup.Columns[c].Name.StartsWith('_'))
            .OrderBy(c => lookup.Columns[c].Name, StringComparer.Ordinal)
            .Select(c => (Column: c, Type: TableImport.ColumnType(lookup, c)))
            .ToList();
        var addedNames = added.Select(a => lookup.Columns[a.Column].Name).ToHashSet(StringComparer.Ordinal);
        var kept = Enumerable.Range(0, schema.Count).Where(i => !addedNames.Contains(schema[i].Name)).ToList();
        var output = new Schema([.. kept.Select(i => schema[i]).Concat(added.Select(a => new Attribute(lookup.Columns[a.Column].Name, a.Type, a.Type == EsqlType.Unsupported ? lookup.Columns[a.Column].Type : null)))]);
        return new LookupJoinOperator(output, join.Span, name, inputKeys, lookupKeys, keyTypes, kept, added);
    }

    private MvExpandOperator BindMvExpand(MvExpandCommand expand, Schema schema)
    {
        var column = schema.IndexOf(expand.Field.Name);
        if (column < 0)
        {
            throw Source.Error(expand.Field.Span, $"Unknown column [{expand.Field.Name}]");
        }
        return new MvExpandOperator(schema, column);
    }

    private ExtractOperator BindDissect(DissectCommand dissect, Schema schema)
    {
        var input = BindExtractInput(dissect.Input, schema, "DISSECT");
        DissectPattern pattern;
        try
        {
            pattern = DissectPattern.Compile((string)dissect.Pattern.Value!);
        }
        catch (Patterns.PatternException e)
        {
            throw Source.Error(dissect.Pattern.Span, e.Message);
        }
        var extractor = new DissectExtractor(pattern, dissect.AppendSeparator ?? "");
        return Extract(dissect.Span, input, extractor, schema);
    }

    private ExtractOperator BindGrok(GrokCommand grok, Schema schema)
    {
        var input = BindExtractInput(grok.Input, schema, "GROK");
        GrokPattern pattern;
        try
        {
            pattern = GrokPattern.Compile((string)grok.Pattern.Value!);
        }
        catch (Patterns.PatternException e)
        {
            throw Source.Error(grok.Pattern.Span, e.Message);
        }
        var columns = pattern.Captures.Select(c => (c.Name, c.Type.ToLowerInvariant() switch
        {
            "keyword" or "string" => EsqlType.Keyword,
            "int" or "integer" => EsqlType.Integer,
            "long" => EsqlType.Long,
            "float" or "double" => EsqlType.Double,
            "boolean" or "bool" => EsqlType.Boolean,
            _ => throw Source.Error(grok.Pattern.Span, $"Unsupported type [{c.Type}] for GROK capture [{c.Name}]; use int, long, float, double or boolean"),
        })).ToList();
        return Extract(grok.Span, input, new GrokExtractor(pattern, columns), schema);
    }

    private Evaluator BindExtractInput(Expr input, Schema schema, string command)
    {
        var value = Bind(schema).Bind(input);
        if (!EsqlTypes.IsString(value.Type) && value.Type != EsqlType.Null)
        {
            throw Source.Error(input.Span, $"{command} only supports KEYWORD or TEXT values, found expression [{Source.Slice(input.Span)}] type [{EsqlTypes.Name(value.Type)}]");
        }
        return value;
    }

    private static ExtractOperator Extract(TextSpan span, Evaluator input, IExtractor extractor, Schema schema)
    {
        var names = extractor.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var kept = Enumerable.Range(0, schema.Count).Where(i => !names.Contains(schema[i].Name)).ToList();
        var output = new Schema([.. kept.Select(i => schema[i]).Concat(extractor.Columns.Select(c => new Attribute(c.Name, c.Type)))]);
        return new ExtractOperator(output, span, input, extractor, kept);
    }
}
