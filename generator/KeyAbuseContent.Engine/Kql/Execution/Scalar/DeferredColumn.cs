using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>
/// A column that extend or project computed but nothing has read yet. A filter after it narrows the rows it will
/// be computed for, so a parser's extend followed by a rule's where computes only the rows the where keeps; a
/// column nobody reads is never computed. Expressions are pure (now() is fixed, subqueries run once), so computing
/// later gives the same values.
/// </summary>
internal sealed class DeferredColumn : Column
{
    private readonly ScalarNode _node;
    private readonly RowSet _input;
    private readonly QueryContext _context;
    private Column? _value;

    public DeferredColumn(ScalarNode node, RowSet input, QueryContext context)
        : base(node.Type, input.RowCount)
    {
        _node = node;
        _input = input;
        _context = context;
    }

    public override bool IsNull(int row) => Materialize().IsNull(row);

    public override object? GetValue(int row) => Materialize().GetValue(row);

    public override Column Materialize() => _value ??= _node.Evaluate(_input, _context).Materialize();

    public override Column Gather(int[] rows) => Materialize().Gather(rows);

    public override Column Select(int[] rows) => _value is { } value ? value.Select(rows) : new DeferredColumn(_node, _input.Select(rows), _context);
}
