using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Storage;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Binding;

// summarize, distinct and count: the by keys first, then the aggregate columns.
internal sealed partial class QueryBinder
{
    private TabularNode BindSummarize(TabularNode input, ImmutableArray<ExprSyntax> aggregates, ImmutableArray<ExprSyntax> by)
    {
        var row = new RowContext(input.Schema);
        var columns = new List<ColumnSymbol>();
        var keys = new List<ScalarNode>();
        var byColumns = new HashSet<int>();
        foreach (var item in by)
        {
            var (declared, expr) = item is NamedSyntax named ? (named.Names[0], named.Value) : (null, item);
            var node = BindScalar(expr, row);
            if (node.Type == KqlType.Dynamic)
            {
                throw Error(expr.Position, "a dynamic value cannot be a summarize or distinct key; convert it first (tostring(...))");
            }
            if (node is ColumnNode column && declared is null)
            {
                byColumns.Add(column.Ordinal);
            }
            AddColumn(columns, declared, declared ?? ColumnNames.ResultName(expr, input.Schema), node.Type, item.Position);
            keys.Add(node);
        }
        var collector = new AggregateCollector(input.Schema);
        var aggregateRow = new RowContext(TableSchema.Empty) { Aggregates = collector };
        var outputs = new List<(ScalarNode Node, int ColumnIndex)>();
        foreach (var item in aggregates)
        {
            var (names, expr) = item is NamedSyntax named ? (named.Names, named.Value) : ([], item);
            if (expr is CallSyntax call && AggregateFunctions.IsAggregate(call.Name))
            {
                var (aggregate, defaultNames) = BindAggregate(call, input.Schema, byColumns, columns);
                var first = collector.Add(aggregate);
                for (var k = 0; k < aggregate.OutputTypes.Length; k++)
                {
                    var declared = k < names.Length ? names[k] : null;
                    AddColumn(columns, declared, declared ?? defaultNames[k], aggregate.OutputTypes[k], item.Position);
                    outputs.Add((new AggregateResultNode(first + k, aggregate.OutputTypes[k]), columns.Count - 1));
                }
                continue;
            }
            var node = BindScalar(expr, aggregateRow);
            var name = names.Length > 0 ? names[0] : null;
            AddColumn(columns, name, name ?? ColumnNames.ResultName(expr, input.Schema), node.Type, item.Position);
            outputs.Add((node, columns.Count - 1));
        }
        return new SummarizeNode(input, new TableSchema(columns), [.. keys], [.. collector.Aggregates], collector.Schema, [.. outputs.Select(o => o.Node)]);
    }

    /// <summary>Adds an output column: a declared name must be new; a derived name gets a number when taken.</summary>
    private void AddColumn(List<ColumnSymbol> columns, string? declared, string? name, KqlType type, int position)
    {
        bool Taken(string n) => columns.Exists(c => c.Name == n);
        if (declared is not null && Taken(declared))
        {
            throw Error(position, $"the column '{declared}' is declared twice in summarize");
        }
        var unique = name is null || name.Length == 0 ? Projection.NextColumnName(Taken) : Projection.UniqueName(name, Taken);
        columns.Add(new ColumnSymbol(unique, type));
    }

    /// <summary>An aggregate inside a larger expression (<c>todouble(count())</c>): its first result column.</summary>
    private ScalarNode BindAggregateInExpression(CallSyntax call, AggregateCollector collector)
    {
        var (aggregate, _) = BindAggregate(call, collector.Input, [], []);
        var first = collector.Add(aggregate);
        return new AggregateResultNode(first, aggregate.OutputTypes[0]);
    }

    private (Aggregate Aggregate, ImmutableArray<string> Names) BindAggregate(CallSyntax call, TableSchema input, HashSet<int> byColumns, List<ColumnSymbol> outputSoFar)
    {
        var row = new RowContext(input);
        var args = call.Arguments;
        ScalarNode Arg(int i) => BindScalar(args[i], row);
        ScalarNode Predicate(int i)
        {
            var p = Arg(i);
            if (p.Type is not (KqlType.Bool or KqlType.Dynamic))
            {
                throw Error(args[i].Position, $"{call.Name}(): the predicate must be a bool, not {p.Type.Name()}");
            }
            return p;
        }
        string Named(string prefix) => args.Length > 0 ? $"{prefix}_{ColumnNames.ResultName(args[0], input) ?? ""}" : prefix + "_";
        void Arity(int min, int max)
        {
            if (args.Length < min || args.Length > max)
            {
                throw Error(call.Position, $"{call.Name}() takes {(min == max ? $"{min}" : $"{min} to {max}")} argument(s), not {args.Length}");
            }
        }

        switch (call.Name)
        {
            case "count":
                Arity(0, 1);
                if (args.Length == 0)
                {
                    return (new CountAggregate(null), ["count_"]);
                }
                // count(predicate) is the old countif; Microsoft's language service refuses other arguments.
                var counted = Arg(0);
                if (counted.Type != KqlType.Bool)
                {
                    throw Unsupported(args[0].Position, $"count() of a {counted.Type.Name()} (count takes no argument, or a bool predicate)");
                }
                return (new CountAggregate(counted), [Named("count")]);
            case "countif":
                Arity(1, 1);
                return (new CountAggregate(Predicate(0)), [Named("countif")]);
            case "dcount" or "dcountif":
                var dcountIf = call.Name == "dcountif";
                Arity(dcountIf ? 2 : 1, dcountIf ? 3 : 2);
                return (new DCountAggregate(Arg(0), dcountIf ? Predicate(1) : null), [Named(call.Name)]);
            case "sum" or "sumif":
                Arity(call.Name == "sum" ? 1 : 2, call.Name == "sum" ? 1 : 2);
                var summed = Arg(0);
                var sumType = summed.Type switch
                {
                    KqlType.Int or KqlType.Long => KqlType.Long,
                    KqlType.Real or KqlType.Dynamic => KqlType.Real,
                    KqlType.TimeSpan => KqlType.TimeSpan,
                    _ => throw Error(args[0].Position, $"{call.Name}() sums numbers and timespans, not {summed.Type.Name()}"),
                };
                return (new SumAggregate(summed, call.Name == "sumif" ? Predicate(1) : null, sumType), [Named(call.Name)]);
            case "avg" or "avgif":
                Arity(call.Name == "avg" ? 1 : 2, call.Name == "avg" ? 1 : 2);
                var averaged = Arg(0);
                var avgType = averaged.Type switch
                {
                    KqlType.Int or KqlType.Long or KqlType.Real or KqlType.Dynamic => KqlType.Real,
                    KqlType.TimeSpan or KqlType.DateTime => averaged.Type,
                    _ => throw Error(args[0].Position, $"{call.Name}() averages numbers, timespans and datetimes, not {averaged.Type.Name()}"),
                };
                return (new AvgAggregate(averaged, call.Name == "avgif" ? Predicate(1) : null, avgType), [Named(call.Name)]);
            case "min" or "max" or "minif" or "maxif":
                var conditional = call.Name.EndsWith("if", StringComparison.Ordinal);
                Arity(conditional ? 2 : 1, conditional ? 2 : 1);
                return (new MinMaxAggregate(Arg(0), conditional ? Predicate(1) : null, call.Name.StartsWith("max", StringComparison.Ordinal)), [Named(call.Name)]);
            case "stdev" or "stdevif" or "stdevp" or "variance" or "varianceif" or "variancep":
                var spreadIf = call.Name.EndsWith("if", StringComparison.Ordinal);
                Arity(spreadIf ? 2 : 1, spreadIf ? 2 : 1);
                var spread = Arg(0);
                if (!spread.Type.IsNumeric() && spread.Type != KqlType.Dynamic)
                {
                    throw Error(args[0].Position, $"{call.Name}() needs numbers, not {spread.Type.Name()}");
                }
                return (new SpreadAggregate(spread, spreadIf ? Predicate(1) : null, call.Name.EndsWith('p'), call.Name.StartsWith("variance", StringComparison.Ordinal)), [Named(call.Name)]);
            case "percentile" or "percentiles":
                Arity(2, call.Name == "percentile" ? 2 : 64);
                var value = Arg(0);
                var percents = ImmutableArray.CreateBuilder<double>();
                var names = ImmutableArray.CreateBuilder<string>();
                var valueName = ColumnNames.ResultName(args[0], input) ?? "";
                for (var i = 1; i < args.Length; i++)
                {
                    var p = BindScalar(args[i], RowContext.None);
                    if (!p.IsConstant || ColumnViews.ConstantDouble(p.ConstantValue) is not { } percent || percent < 0 || percent > 100)
                    {
                        throw Error(args[i].Position, $"{call.Name}(): a percentile is a constant number from 0 to 100");
                    }
                    percents.Add(percent);
                    names.Add($"percentile_{valueName}_{ColumnNames.Fragment(p.ConstantValue)}");
                }
                var percentileType = value.Type switch
                {
                    KqlType.Int => KqlType.Long,
                    KqlType.Long or KqlType.Real or KqlType.DateTime or KqlType.TimeSpan => value.Type,
                    _ => throw Error(args[0].Position, $"{call.Name}() needs numbers, datetimes or timespans, not {value.Type.Name()}"),
                };
                return (new PercentileAggregate(value, percents.ToImmutable(), percentileType), names.ToImmutable());
            case "make_set" or "make_list" or "make_set_if" or "make_list_if":
                var listIf = call.Name.EndsWith("_if", StringComparison.Ordinal);
                Arity(listIf ? 2 : 1, listIf ? 3 : 2);
                var sizeIndex = listIf ? 2 : 1;
                var maxSize = args.Length > sizeIndex && BindScalar(args[sizeIndex], RowContext.None) is { IsConstant: true } size
                    ? ColumnViews.ConstantLong(size.ConstantValue) ?? 1_048_576
                    : 1_048_576;
                return (new MakeListAggregate(Arg(0), listIf ? Predicate(1) : null, call.Name.StartsWith("make_set", StringComparison.Ordinal), maxSize),
                    [Named(AggregateFunctions.NamePrefix(call.Name)!)]);
            case "arg_max" or "arg_min":
                return BindArgExtreme(call, input, byColumns, call.Name == "arg_max");
            case "take_any" or "any":
                return BindTakeAny(call, input);
            default:
                throw Unsupported(call.Position, $"the aggregate {call.Name}()");
        }
    }

    private (Aggregate, ImmutableArray<string>) BindArgExtreme(CallSyntax call, TableSchema input, HashSet<int> byColumns, bool max)
    {
        if (call.Arguments.Length == 0)
        {
            throw Error(call.Position, $"{call.Name}() needs the expression to {(max ? "maximize" : "minimize")}");
        }
        var row = new RowContext(input);
        var nodes = ImmutableArray.CreateBuilder<ScalarNode>();
        var names = ImmutableArray.CreateBuilder<string>();
        var added = new HashSet<int>();
        var anyStar = call.Arguments.Any(a => a is StarSyntax);
        var prefix = max ? "max" : "min";
        var primaryName = ColumnNames.ResultName(call.Arguments[0], input);
        for (var i = 0; i < call.Arguments.Length; i++)
        {
            var arg = call.Arguments[i];
            if (arg is StarSyntax)
            {
                for (var c = 0; c < input.Count; c++)
                {
                    if (!added.Contains(c) && !byColumns.Contains(c))
                    {
                        added.Add(c);
                        nodes.Add(new ColumnNode(c, input.Columns[c]));
                        names.Add(input.Columns[c].Name);
                    }
                }
                continue;
            }
            var (declared, expr) = arg is NamedSyntax named ? (named.Names[0], named.Value) : (null, arg);
            var node = BindScalar(expr, row);
            if (node is ColumnNode column)
            {
                if (i > 0 && anyStar && (added.Contains(column.Ordinal) || byColumns.Contains(column.Ordinal)))
                {
                    continue;
                }
                added.Add(column.Ordinal);
            }
            nodes.Add(node);
            names.Add(declared ?? ColumnNames.ResultName(expr, input) ?? (i == 0 ? prefix + "_" : $"{prefix}_{primaryName}_arg{i}"));
        }
        return (new ArgExtremeAggregate(nodes.ToImmutable(), max), names.ToImmutable());
    }

    private (Aggregate, ImmutableArray<string>) BindTakeAny(CallSyntax call, TableSchema input)
    {
        if (call.Arguments.Length == 0)
        {
            throw Error(call.Position, $"{call.Name}() needs at least one argument");
        }
        var row = new RowContext(input);
        var nodes = ImmutableArray.CreateBuilder<ScalarNode>();
        var names = ImmutableArray.CreateBuilder<string>();
        var added = new HashSet<int>();
        for (var i = 0; i < call.Arguments.Length; i++)
        {
            var arg = call.Arguments[i];
            if (arg is StarSyntax)
            {
                for (var c = 0; c < input.Count; c++)
                {
                    if (added.Add(c))
                    {
                        nodes.Add(new ColumnNode(c, input.Columns[c]));
                        names.Add(input.Columns[c].Name);
                    }
                }
                continue;
            }
            var (declared, expr) = arg is NamedSyntax named ? (named.Names[0], named.Value) : (null, arg);
            var node = BindScalar(expr, row);
            if (node is ColumnNode column)
            {
                added.Add(column.Ordinal);
            }
            nodes.Add(node);
            var name = declared ?? ColumnNames.ResultName(expr, input);
            names.Add(string.IsNullOrEmpty(name) ? (call.Name == "take_any" ? "any_" : "") + "arg" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) : name);
        }
        return (new TakeAnyAggregate(nodes.ToImmutable()), names.ToImmutable());
    }
}

/// <summary>A column of the aggregates' results, which the outer expressions of summarize items read.</summary>
internal sealed class AggregateResultNode : ScalarNode
{
    private readonly int _ordinal;

    public AggregateResultNode(int ordinal, KqlType type)
        : base(type)
    {
        _ordinal = ordinal;
    }

    public override bool Foldable => false;

    public override Column Evaluate(RowSet input, Execution.QueryContext context) => input.Columns[_ordinal];
}
