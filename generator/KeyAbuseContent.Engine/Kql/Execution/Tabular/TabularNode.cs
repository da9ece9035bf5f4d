using System.Collections.Immutable;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Tabular;

/// <summary>A bound tabular expression: its schema is known before it runs, and it runs to a columnar table.</summary>
internal abstract class TabularNode
{
    protected TabularNode(TableSchema schema)
    {
        Schema = schema;
    }

    public TableSchema Schema { get; }

    public abstract RowSet Execute(QueryContext context);

    /// <summary>One row and no columns: what print and scalar lets evaluate over.</summary>
    public static RowSet SingleRow { get; } = new(TableSchema.Empty, [], 1);
}

/// <summary>A table of the catalog, or a datatable literal, already in columns.</summary>
internal sealed class RowsNode : TabularNode
{
    private readonly RowSet _rows;

    public RowsNode(RowSet rows)
        : base(rows.Schema)
    {
        _rows = rows;
    }

    public override RowSet Execute(QueryContext context) => _rows;
}

/// <summary>A table of the catalog, by name: its rows are those of the run that executes the plan.</summary>
internal sealed class CatalogTableNode : TabularNode
{
    private readonly string _name;

    public CatalogTableNode(string name, TableSchema schema)
        : base(schema)
    {
        _name = name;
    }

    public override RowSet Execute(QueryContext context)
    {
        var rows = context.Catalog.Rows(_name);
        // The schema objects differ between runs; the columns are the same, as the plan was reused only then.
        return ReferenceEquals(rows.Schema, Schema) ? rows : new RowSet(Schema, rows.Columns, rows.RowCount);
    }
}

/// <summary><c>print</c>: one row of expressions.</summary>
internal sealed class PrintNode : TabularNode
{
    private readonly ImmutableArray<ScalarNode> _items;

    public PrintNode(TableSchema schema, ImmutableArray<ScalarNode> items)
        : base(schema)
    {
        _items = items;
    }

    public override RowSet Execute(QueryContext context)
    {
        var columns = _items.Select(i => i.Evaluate(SingleRow, context)).ToArray();
        return new RowSet(Schema, columns, 1);
    }
}

/// <summary><c>range x from a to b step s</c>: both ends included.</summary>
internal sealed class RangeNode : TabularNode
{
    private const int MaxRows = 100_000_000;
    private readonly ScalarNode _from;
    private readonly ScalarNode _to;
    private readonly ScalarNode _step;

    public RangeNode(TableSchema schema, ScalarNode from, ScalarNode to, ScalarNode step)
        : base(schema)
    {
        _from = from;
        _to = to;
        _step = step;
    }

    public override RowSet Execute(QueryContext context)
    {
        var from = _from.Evaluate(SingleRow, context).GetValue(0);
        var to = _to.Evaluate(SingleRow, context).GetValue(0);
        var step = _step.Evaluate(SingleRow, context).GetValue(0);
        var type = Schema.Columns[0].Type;
        var builder = ColumnBuilder.Create(type, 16);
        if (from is not null && to is not null && step is not null)
        {
            if (type == KqlType.Real)
            {
                var (f, t, s) = (Scalars.ToReal(from)!.Value, Scalars.ToReal(to)!.Value, Scalars.ToReal(step)!.Value);
                for (var i = 0L; s != 0 && (s > 0 ? f + (i * s) <= t : f + (i * s) >= t); i++)
                {
                    CheckSize(builder.Count);
                    builder.Add(f + (i * s));
                }
            }
            else
            {
                var (f, t, s) = (ColumnViews.ConstantLong(from)!.Value, ColumnViews.ConstantLong(to)!.Value, ColumnViews.ConstantLong(step)!.Value);
                for (var v = f; s != 0 && (s > 0 ? v <= t : v >= t); v += s)
                {
                    CheckSize(builder.Count);
                    builder.Add(type switch
                    {
                        KqlType.DateTime => new DateTime(v, DateTimeKind.Utc),
                        KqlType.TimeSpan => new TimeSpan(v),
                        _ => (object)v,
                    });
                }
            }
        }
        var column = builder.Build();
        return new RowSet(Schema, [column], column.Count);
    }

    private static void CheckSize(int count)
    {
        if (count >= MaxRows)
        {
            throw new InvalidOperationException($"range would produce more than {MaxRows} rows");
        }
    }
}

/// <summary><c>where</c>: keeps the rows whose predicate is true (null counts as false).</summary>
internal sealed class FilterNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly ScalarNode _predicate;

    public FilterNode(TabularNode input, ScalarNode predicate)
        : base(input.Schema)
    {
        _input = input;
        _predicate = predicate;
    }

    public override RowSet Execute(QueryContext context)
    {
        var input = _input.Execute(context);
        var predicate = _predicate.Evaluate(input, context);
        if (predicate is ConstantColumn c)
        {
            return Scalars.ToBool(c.Value) == true ? input : RowSet.Empty(Schema);
        }
        var (values, nulls) = ColumnViews.Bools(predicate);
        var count = 0;
        for (var i = 0; i < input.RowCount; i++)
        {
            if (values[i] && (nulls is null || !nulls[i]))
            {
                count++;
            }
        }
        if (count == input.RowCount)
        {
            return input;
        }
        var rows = new int[count];
        var k = 0;
        for (var i = 0; i < input.RowCount; i++)
        {
            if (values[i] && (nulls is null || !nulls[i]))
            {
                rows[k++] = i;
            }
        }
        return input.Select(rows);
    }
}

/// <summary>extend, project and their kin: each output column is an expression over the input (a column reference copies nothing).</summary>
internal sealed class ProjectNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly ImmutableArray<ScalarNode> _outputs;

    public ProjectNode(TabularNode input, TableSchema schema, ImmutableArray<ScalarNode> outputs)
        : base(schema)
    {
        _input = input;
        _outputs = outputs;
    }

    public override RowSet Execute(QueryContext context)
    {
        var input = _input.Execute(context);
        var columns = new Column[_outputs.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            // Column references and constants cost nothing; anything else is computed when read.
            columns[i] = _outputs[i] is ColumnNode or ConstantNode
                ? _outputs[i].Evaluate(input, context)
                : new DeferredColumn(_outputs[i], input, context);
        }
        return new RowSet(Schema, columns, input.RowCount);
    }
}

/// <summary><c>take</c>/<c>limit</c>.</summary>
internal sealed class TakeNode : TabularNode
{
    private readonly TabularNode _input;
    private readonly ScalarNode _count;

    public TakeNode(TabularNode input, ScalarNode count)
        : base(input.Schema)
    {
        _input = input;
        _count = count;
    }

    public override RowSet Execute(QueryContext context)
    {
        var count = ColumnViews.ConstantLong(_count.Evaluate(SingleRow, context).GetValue(0)) ?? 0;
        return _input.Execute(context).Take((int)Math.Clamp(count, 0, int.MaxValue));
    }
}

/// <summary>
/// A tabular <c>let</c> read more than once: Kusto may evaluate a let that is not materialized at each reference, and
/// every evaluation within a query run gives the same rows (the clock is fixed per run, the executor has no random
/// functions), so the executor runs it once a query run and every reference reads those rows. Unlike
/// <c>materialize()</c> it keeps the rows' columns as they are (views stay views).
/// </summary>
internal sealed class LetNode(TabularNode input) : OnceNode(input)
{
    protected override RowSet Run(QueryContext context)
    {
        context.LetEvaluations++;
        return Input.Execute(context);
    }
}

/// <summary><c>materialize(...)</c>: the input runs once a query run, however often it is referenced.</summary>
internal sealed class MaterializeNode(TabularNode input) : OnceNode(input)
{
    protected override RowSet Run(QueryContext context)
    {
        context.MaterializeEvaluations++;
        var rows = Input.Execute(context);
        // Views over other columns are made concrete, so later readers share the work.
        return new RowSet(rows.Schema, [.. rows.Columns.Select(c => c.Materialize())], rows.RowCount);
    }
}

/// <summary>An input whose rows are computed on first use in a query run and read by every later reference.</summary>
internal abstract class OnceNode(TabularNode input) : TabularNode(input.Schema)
{
    protected TabularNode Input { get; } = input;

    public sealed override RowSet Execute(QueryContext context) => context.Once(this, () => Run(context));

    protected abstract RowSet Run(QueryContext context);
}
