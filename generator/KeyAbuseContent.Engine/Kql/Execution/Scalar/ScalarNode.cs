using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>A bound scalar expression: its type is known, and it evaluates to one column over an input's rows.</summary>
internal abstract class ScalarNode
{
    protected ScalarNode(KqlType type)
    {
        Type = type;
    }

    public KqlType Type { get; }

    /// <summary>A column of <paramref name="input"/>.RowCount values.</summary>
    public abstract Column Evaluate(RowSet input, QueryContext context);

    /// <summary>Whether the value is known when the query is bound (literals and what folds from them).</summary>
    public virtual bool IsConstant => false;

    /// <summary>The value of a constant node.</summary>
    public virtual object? ConstantValue => throw new InvalidOperationException("not a constant");

    /// <summary>The sub-expressions, for constant folding.</summary>
    public virtual IEnumerable<ScalarNode> Children => [];

    /// <summary>False for what depends on the row or on a run (columns, subqueries).</summary>
    public virtual bool Foldable => true;

    /// <summary>Whether the whole expression can be computed once, when the query is bound.</summary>
    public bool CanFold() => Foldable && Children.All(c => c.CanFold());
}

/// <summary>A literal or folded value.</summary>
internal sealed class ConstantNode : ScalarNode
{
    public ConstantNode(KqlType type, object? value)
        : base(type)
    {
        Value = type == KqlType.String ? value ?? "" : value;
    }

    public object? Value { get; }

    public override bool IsConstant => true;

    public override object? ConstantValue => Value;

    public override Column Evaluate(RowSet input, QueryContext context) => new ConstantColumn(Type, Value, input.RowCount);
}

/// <summary>A column of the input, by ordinal.</summary>
internal sealed class ColumnNode : ScalarNode
{
    public ColumnNode(int ordinal, ColumnSymbol column)
        : base(column.Type)
    {
        Ordinal = ordinal;
        Column = column;
    }

    public int Ordinal { get; }

    public ColumnSymbol Column { get; }

    public override bool Foldable => false;

    public override Column Evaluate(RowSet input, QueryContext context) => input.Columns[Ordinal];
}

/// <summary>
/// A function evaluated row by row over boxed values: the general path for the many functions that are not
/// hot enough for a typed kernel. <see cref="Function"/> gets the row's argument values and returns the result.
/// </summary>
internal sealed class RowFunctionNode : ScalarNode
{
    public RowFunctionNode(string name, KqlType type, ImmutableArray<ScalarNode> arguments, Func<object?[], object?> function)
        : base(type)
    {
        Name = name;
        Arguments = arguments;
        Function = function;
    }

    public string Name { get; }

    public ImmutableArray<ScalarNode> Arguments { get; }

    public Func<object?[], object?> Function { get; }

    public override IEnumerable<ScalarNode> Children => Arguments;

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var args = new Column[Arguments.Length];
        var allConstant = true;
        for (var a = 0; a < args.Length; a++)
        {
            args[a] = Arguments[a].Evaluate(input, context);
            allConstant &= args[a] is ConstantColumn;
        }
        var buffer = new object?[args.Length];
        if (allConstant)
        {
            for (var a = 0; a < args.Length; a++)
            {
                buffer[a] = ((ConstantColumn)args[a]).Value;
            }
            return new ConstantColumn(Type, Function(buffer), n);
        }
        for (var a = 0; a < args.Length; a++)
        {
            args[a] = args[a].Materialize();
        }
        var builder = ColumnBuilder.Create(Type, n);
        for (var row = 0; row < n; row++)
        {
            for (var a = 0; a < args.Length; a++)
            {
                buffer[a] = args[a].GetValue(row);
            }
            builder.Add(Function(buffer));
        }
        return builder.Build();
    }
}

/// <summary>A scalar node whose value is computed once per run from a tabular subquery (toscalar).</summary>
internal sealed class SubqueryScalarNode : ScalarNode
{
    private readonly Tabular.TabularNode _query;

    public SubqueryScalarNode(KqlType type, Tabular.TabularNode query)
        : base(type)
    {
        _query = query;
    }

    public override bool Foldable => false;

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var value = context.Once(this, () =>
        {
            var rows = _query.Execute(context);
            return new StrongBox<object?>(rows.RowCount > 0 && rows.Columns.Length > 0 ? rows.Columns[0].GetValue(0) : null);
        });
        return new ConstantColumn(Type, value.Value, input.RowCount);
    }
}

/// <summary>
/// <c>now()</c> and <c>ago()</c>: the clock of the run that evaluates it, never folded when the query is bound,
/// so one bound plan serves runs at different times. Constant within a run.
/// </summary>
internal sealed class ClockNode : ScalarNode
{
    private readonly ScalarNode? _argument;
    private readonly Func<DateTime, object?, object?> _function;

    /// <summary>A clock read with the offset (now) or span (ago) of <paramref name="argument"/>, or none for now() itself.</summary>
    public ClockNode(ScalarNode? argument, Func<DateTime, object?, object?> function)
        : base(KqlType.DateTime)
    {
        _argument = argument;
        _function = function;
    }

    public override bool Foldable => false;

    public override IEnumerable<ScalarNode> Children => _argument is null ? [] : [_argument];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var now = context.Now;
        if (_argument is null)
        {
            return new ConstantColumn(Type, now, input.RowCount);
        }
        var argument = _argument.Evaluate(input, context);
        if (argument is ConstantColumn constant)
        {
            return new ConstantColumn(Type, _function(now, constant.Value), input.RowCount);
        }
        argument = argument.Materialize();
        var builder = ColumnBuilder.Create(Type, input.RowCount);
        for (var row = 0; row < input.RowCount; row++)
        {
            builder.Add(_function(now, argument.GetValue(row)));
        }
        return builder.Build();
    }
}
