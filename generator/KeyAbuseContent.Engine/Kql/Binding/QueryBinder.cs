using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Execution;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Functions;
using KeyAbuseContent.Engine.Kql.Storage;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Binding;

/// <summary>
/// Binds a syntax tree to an executable plan: resolves names (columns first, then lets, then the catalog's
/// tables and stored functions), computes every column's type and name, and refuses what the executor does not
/// support, naming the construct and its place.
/// </summary>
internal sealed partial class QueryBinder
{
    private const int MaxCallDepth = 32;
    private readonly QueryContext _context;
    private readonly Dictionary<string, QuerySyntax> _storedBodies = new(StringComparer.Ordinal);
    private SourceText _source;
    private Scope _scope;
    private int _callDepth;

    private QueryBinder(QueryContext context, SourceText source)
    {
        _context = context;
        _source = source;
        _scope = new Scope(null);
    }

    /// <summary>The plan of a query; its result must be tabular.</summary>
    public static TabularNode Bind(QuerySyntax query, QueryContext context)
    {
        var binder = new QueryBinder(context, query.Source);
        var result = binder.BindBlock(query.Statements, query.Body);
        return result.Table ?? throw binder.Error(query.Body.Position, "the query ends in a scalar expression; a query ends in a tabular expression (use print to show a value)");
    }

    /// <summary>A bound expression: a table or a scalar, as names decide.</summary>
    private readonly record struct Bound(TabularNode? Table, ScalarNode? Scalar)
    {
        public static Bound Of(TabularNode table) => new(table, null);

        public static Bound Of(ScalarNode scalar) => new(null, scalar);
    }

    private Bound BindBlock(ImmutableArray<StatementSyntax> statements, ExprSyntax body)
    {
        foreach (var statement in statements)
        {
            switch (statement)
            {
                case LetSyntax let:
                    var value = BindExpr(let.Value, RowContext.None);
                    _scope.Declare(let.Name, value.Table is { } t ? new TableSymbol(t is MaterializeNode or CatalogTableNode ? t : new LetNode(t)) : new ScalarSymbol(Fold(value.Scalar!)));
                    break;
                case LetFunctionSyntax function:
                    _scope.Declare(function.Name, new FunctionSymbol(function, _scope, _source));
                    break;
                default:
                    throw Error(statement.Position, "unknown statement");
            }
        }
        return BindExpr(body, RowContext.None);
    }

    private TabularNode BindTabular(ExprSyntax syntax)
    {
        var bound = BindExpr(syntax, RowContext.None);
        return bound.Table ?? throw Error(syntax.Position, $"expected a tabular expression, found a scalar {Describe(syntax)}");
    }

    private ScalarNode BindScalar(ExprSyntax syntax, RowContext row)
    {
        var bound = BindExpr(syntax, row);
        return bound.Scalar ?? throw Error(syntax.Position, $"expected a scalar expression, found the table {Describe(syntax)}");
    }

    private Bound BindExpr(ExprSyntax syntax, RowContext row)
    {
        switch (syntax)
        {
            case PipeSyntax pipe:
                return Bound.Of(BindOperator(BindTabular(pipe.Source), pipe.Operator));
            case ParenthesizedSyntax paren:
                return BindExpr(paren.Inner, row);
            case DatatableSyntax datatable:
                return Bound.Of(BindDatatable(datatable));
            case PrintSyntax print:
                return Bound.Of(BindPrint(print));
            case RangeSyntax range:
                return Bound.Of(BindRange(range));
            case UnionSourceSyntax union:
                return Bound.Of(BindUnion(null, union.Options, union.Tables));
            case NameSyntax name:
                return BindName(name, row);
            case CallSyntax call:
                return BindCall(call, row);
            case LiteralSyntax literal:
                return Bound.Of(new ConstantNode(literal.Type, literal.Value));
            default:
                return Bound.Of(BindScalarSyntax(syntax, row));
        }
    }

    private Bound BindName(NameSyntax name, RowContext row)
    {
        var ordinal = row.Schema.IndexOf(name.Name);
        if (ordinal >= 0)
        {
            return Bound.Of(new ColumnNode(ordinal, row.Schema.Columns[ordinal]));
        }
        switch (_scope.Lookup(name.Name))
        {
            case ScalarSymbol scalar:
                return Bound.Of(scalar.Node);
            case TableSymbol table:
                return Bound.Of(table.Node);
            case FunctionSymbol function when function.Syntax.Parameters.Length == 0:
                return InvokeLetFunction(function, [], name.Position, row);
            case FunctionSymbol:
                throw Error(name.Position, $"the function '{name.Name}' needs its arguments: {name.Name}(...)");
            default:
                break;
        }
        if (_context.Catalog.TryGetTable(name.Name, out var schema))
        {
            return Bound.Of(new CatalogTableNode(name.Name, schema));
        }
        if (_context.Catalog.TryGetFunction(name.Name, out var stored) && stored.Parameters.Count == 0)
        {
            return InvokeStoredFunction(stored, [], name.Position);
        }
        if (row.Aggregates is not null && row.Aggregates.Input.Contains(name.Name))
        {
            throw Error(name.Position, $"the column '{name.Name}' is used outside an aggregate in summarize; wrap it in one (take_any, max, ...) or add it to 'by'");
        }
        throw Error(name.Position, $"the name '{name.Name}' is not a column, a let variable, a table or a function{Suggest(name.Name, row)}");
    }

    private static string Suggest(string name, RowContext row)
    {
        var columns = row.Schema.Columns.Where(c => !c.Name.StartsWith('$')).Select(c => c.Name).ToList();
        return columns.Count == 0 ? "" : $" (columns here: {string.Join(", ", columns.Take(20))}{(columns.Count > 20 ? ", ..." : "")})";
    }

    private Bound BindCall(CallSyntax call, RowContext row)
    {
        switch (call.Name)
        {
            case "materialize":
                ExpectArgs(call, 1);
                return Bound.Of(new MaterializeNode(BindTabular(call.Arguments[0])));
            case "toscalar":
                ExpectArgs(call, 1);
                var query = BindTabular(call.Arguments[0]);
                if (query.Schema.Count == 0)
                {
                    throw Error(call.Position, "toscalar() needs a query with at least one column");
                }
                return Bound.Of(new SubqueryScalarNode(query.Schema.Columns[0].Type, query));
            case "column_ifexists":
                return Bound.Of(BindColumnIfExists(call, row));
            case "cluster" or "database" or "table" or "external_table" or "materialized_view" or "stored_query_result":
                throw Unsupported(call.Position, $"{call.Name}()");
            default:
                break;
        }
        if (_scope.Lookup(call.Name) is FunctionSymbol function)
        {
            return InvokeLetFunction(function, call.Arguments, call.Position, row);
        }
        if (AggregateFunctions.IsAggregate(call.Name))
        {
            if (row.Aggregates is null)
            {
                throw Error(call.Position, $"the aggregate {call.Name}() can only be used in summarize");
            }
            return Bound.Of(BindAggregateInExpression(call, row.Aggregates));
        }
        if (ScalarFunctions.TryGet(call.Name, out var builtin))
        {
            return Bound.Of(BindBuiltin(builtin, call, row));
        }
        if (_context.Catalog.TryGetFunction(call.Name, out var stored))
        {
            var args = call.Arguments.Select(a => BindScalar(a, row)).ToImmutableArray();
            return InvokeStoredFunction(stored, args, call.Position);
        }
        throw Unsupported(call.Position, $"the function {call.Name}() (it is not a let or stored function, and not a built-in function of the executor's subset)");
    }

    private ScalarNode BindBuiltin(ScalarFunction function, CallSyntax call, RowContext row)
    {
        if (call.Arguments.Length < function.MinArgs || call.Arguments.Length > function.MaxArgs)
        {
            var expected = function.MinArgs == function.MaxArgs ? $"{function.MinArgs}" : function.MaxArgs == int.MaxValue ? $"at least {function.MinArgs}" : $"{function.MinArgs} to {function.MaxArgs}";
            throw Error(call.Position, $"{call.Name}() takes {expected} argument{(function.MaxArgs == 1 ? "" : "s")}, not {call.Arguments.Length}");
        }
        var args = call.Arguments.Select(a => a is TypeofSyntax t ? new ConstantNode(KqlType.String, "typeof:" + t.Type.Name()) : BindScalar(a, row)).ToImmutableArray();
        var source = _source;
        var node = function.Bind(new FunctionCall
        {
            Name = call.Name,
            Args = args,
            Syntax = call.Arguments,
            Context = _context,
            Error = message => source.Error(KqlErrorKind.Binding, call.Position, message),
            RuntimeError = message => source.Error(KqlErrorKind.Runtime, call.Position, message),
        });
        return Fold(node);
    }

    private ScalarNode BindColumnIfExists(CallSyntax call, RowContext row)
    {
        ExpectArgs(call, 2);
        if (call.Arguments[0] is not LiteralSyntax { Type: KqlType.String, Value: string name })
        {
            throw Error(call.Arguments[0].Position, "column_ifexists() takes the column name as a string literal");
        }
        var ordinal = row.Schema.IndexOf(name);
        if (ordinal >= 0)
        {
            return new ColumnNode(ordinal, row.Schema.Columns[ordinal]);
        }
        return BindScalar(call.Arguments[1], row);
    }

    private Bound InvokeLetFunction(FunctionSymbol function, ImmutableArray<ExprSyntax> arguments, int position, RowContext row)
    {
        var parameters = function.Syntax.Parameters;
        if (arguments.Length > parameters.Length)
        {
            throw Error(position, $"the function '{function.Syntax.Name}' takes {parameters.Length} argument(s), not {arguments.Length}");
        }
        // Arguments bind in the caller's scope, by position or by name (f(len = 3, x)).
        var values = new ScalarNode?[parameters.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            var (target, syntax) = (i, arguments[i]);
            if (arguments[i] is NamedSyntax named)
            {
                target = parameters.IndexOf(parameters.FirstOrDefault(p => p.Name == named.Names[0])!);
                if (target < 0)
                {
                    throw Error(named.Position, $"the function '{function.Syntax.Name}' has no parameter '{named.Names[0]}'");
                }
                syntax = named.Value;
            }
            values[target] = BindScalar(syntax, row);
        }
        var scope = new Scope(function.Closure);
        return WithScope(scope, function.Source, () =>
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                var value = values[i] ?? (parameters[i].Default is { } d ? BindScalar(d, RowContext.None)
                    : throw Error(position, $"the function '{function.Syntax.Name}' needs its argument '{parameters[i].Name}'"));
                scope.Declare(parameters[i].Name, new ScalarSymbol(value));
            }
            return BindBlock(function.Syntax.Statements, function.Syntax.Body);
        }, position);
    }

    private Bound InvokeStoredFunction(KqlFunction function, ImmutableArray<ScalarNode> args, int position)
    {
        if (args.Length != function.Parameters.Count)
        {
            throw Error(position, $"the stored function '{function.Name}' takes {function.Parameters.Count} argument(s), not {args.Length}");
        }
        var callSite = new SourceLocation(_source, position);
        if (!_storedBodies.TryGetValue(function.Name, out var body))
        {
            body = KqlParser.ParseFunctionBody(new SourceText(function.Body, function.Name, callSite));
            _storedBodies[function.Name] = body;
        }
        var scope = new Scope(null);
        var source = new SourceText(function.Body, function.Name, callSite);
        for (var i = 0; i < args.Length; i++)
        {
            var (name, typeName) = function.Parameters[i];
            if (!KqlTypes.TryParse(typeName, out _))
            {
                throw Error(position, $"the stored function '{function.Name}' declares parameter '{name}' with type '{typeName}', which is not a KQL scalar type");
            }
            scope.Declare(name, new ScalarSymbol(args[i]));
        }
        return WithScope(scope, source, () => BindBlock(body.Statements, body.Body), position);
    }

    private T WithScope<T>(Scope scope, SourceText source, Func<T> bind, int position)
    {
        if (++_callDepth > MaxCallDepth)
        {
            throw Error(position, $"functions call each other more than {MaxCallDepth} deep");
        }
        var (savedScope, savedSource) = (_scope, _source);
        (_scope, _source) = (scope, source);
        try
        {
            return bind();
        }
        finally
        {
            (_scope, _source) = (savedScope, savedSource);
            _callDepth--;
        }
    }

    /// <summary>A constant when every input of the expression is known: scalar lets and literal arithmetic fold once.</summary>
    private ScalarNode Fold(ScalarNode node)
    {
        if (node.IsConstant || !node.CanFold())
        {
            return node;
        }
        var value = node.Evaluate(TabularNode.SingleRow, _context).GetValue(0);
        return new ConstantNode(node.Type, value);
    }

    private TabularNode BindDatatable(DatatableSyntax datatable)
    {
        var columns = datatable.Columns;
        if (columns.Length == 0)
        {
            throw Error(datatable.Position, "a datatable needs at least one column");
        }
        if (datatable.Values.Length % columns.Length != 0)
        {
            throw Error(datatable.Position, $"a datatable of {columns.Length} columns has {datatable.Values.Length} values, not a multiple of {columns.Length}");
        }
        var rowCount = datatable.Values.Length / columns.Length;
        var builders = columns.Select(c => ColumnBuilder.Create(c.Type, rowCount)).ToArray();
        for (var i = 0; i < datatable.Values.Length; i++)
        {
            var syntax = datatable.Values[i];
            var node = BindScalar(syntax, RowContext.None);
            var value = node.Evaluate(TabularNode.SingleRow, _context).GetValue(0);
            var column = columns[i % columns.Length];
            if (!builders[i % columns.Length].Add(value))
            {
                throw Error(syntax.Position, $"the value for datatable column '{column.Name}' is not a {column.Type.Name()}");
            }
        }
        var schema = new TableSchema(columns.Select(c => new ColumnSymbol(c.Name, c.Type)));
        return new RowsNode(new RowSet(schema, [.. builders.Select(b => b.Build())], rowCount));
    }

    private PrintNode BindPrint(PrintSyntax print)
    {
        var projection = new Projection();
        for (var i = 0; i < print.Items.Length; i++)
        {
            var item = print.Items[i];
            if (item is NamedSyntax named)
            {
                var node = BindScalar(named.Value, RowContext.None);
                projection.Append(named.Names[0], node);
            }
            else
            {
                projection.AppendUnique("print_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), BindScalar(item, RowContext.None));
            }
        }
        return new PrintNode(projection.Schema(), [.. projection.Nodes]);
    }

    private RangeNode BindRange(RangeSyntax range)
    {
        var from = BindScalar(range.From, RowContext.None);
        var to = BindScalar(range.To, RowContext.None);
        var step = BindScalar(range.Step, RowContext.None);
        var type = from.Type switch
        {
            KqlType.Int or KqlType.Long when to.Type == KqlType.Real || step.Type == KqlType.Real => KqlType.Real,
            KqlType.Int or KqlType.Long => KqlType.Long,
            KqlType.Real or KqlType.DateTime or KqlType.TimeSpan => from.Type,
            _ => throw Error(range.From.Position, $"range goes over numbers, datetimes or timespans, not {from.Type.Name()}"),
        };
        return new RangeNode(new TableSchema([new ColumnSymbol(range.Column, type)]), from, to, step);
    }

    private void ExpectArgs(CallSyntax call, int count)
    {
        if (call.Arguments.Length != count)
        {
            throw Error(call.Position, $"{call.Name}() takes {count} argument{(count == 1 ? "" : "s")}, not {call.Arguments.Length}");
        }
    }

    private static string Describe(ExprSyntax syntax) => syntax switch
    {
        NameSyntax n => $"'{n.Name}'",
        CallSyntax c => $"{c.Name}(...)",
        _ => "expression",
    };

    private KqlException Error(int position, string message) => _source.Error(KqlErrorKind.Binding, position, message);

    private KqlException Unsupported(int position, string what) =>
        _source.Error(KqlErrorKind.Unsupported, position, $"{what} is not supported by the embedded KQL executor");
}
