using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary><c>and</c>/<c>or</c> with three-valued logic: false and null is false, true or null is true, otherwise null wins.</summary>
internal sealed class LogicalNode : ScalarNode
{
    private readonly bool _and;
    private readonly ScalarNode _left;
    private readonly ScalarNode _right;

    public LogicalNode(bool and, ScalarNode left, ScalarNode right)
        : base(KqlType.Bool)
    {
        _and = and;
        _left = left;
        _right = right;
    }

    public override IEnumerable<ScalarNode> Children => [_left, _right];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var left = _left.Evaluate(input, context);
        if (left is ConstantColumn lc && Scalars.ToBool(lc.Value) is { } lb && lb != _and)
        {
            // false and x, true or x: the right side is not evaluated.
            return new ConstantColumn(KqlType.Bool, lb, n);
        }
        var right = _right.Evaluate(input, context);
        if (left is ConstantColumn l && right is ConstantColumn r)
        {
            return new ConstantColumn(KqlType.Bool, Combine(_and, Scalars.ToBool(l.Value), Scalars.ToBool(r.Value)), n);
        }
        var (lv, ln) = ColumnViews.Bools(left);
        var (rv, rn) = ColumnViews.Bools(right);
        var result = new bool[n];
        if (ln is null && rn is null)
        {
            if (_and)
            {
                for (var i = 0; i < n; i++)
                {
                    result[i] = lv[i] & rv[i];
                }
            }
            else
            {
                for (var i = 0; i < n; i++)
                {
                    result[i] = lv[i] | rv[i];
                }
            }
            return ColumnViews.BoolColumn(result, null);
        }
        bool[]? nulls = null;
        for (var i = 0; i < n; i++)
        {
            bool? a = ln is not null && ln[i] ? null : lv[i];
            bool? b = rn is not null && rn[i] ? null : rv[i];
            if (Combine(_and, a, b) is { } v)
            {
                result[i] = v;
            }
            else
            {
                nulls ??= new bool[n];
                nulls[i] = true;
            }
        }
        return ColumnViews.BoolColumn(result, nulls);
    }

    public static bool? Combine(bool and, bool? a, bool? b)
    {
        if (and)
        {
            if (a == false || b == false)
            {
                return false;
            }
            return a is null || b is null ? null : true;
        }
        if (a == true || b == true)
        {
            return true;
        }
        return a is null || b is null ? null : false;
    }
}

/// <summary><c>not()</c>: null stays null.</summary>
internal sealed class NotNode : ScalarNode
{
    private readonly ScalarNode _operand;

    public NotNode(ScalarNode operand)
        : base(KqlType.Bool)
    {
        _operand = operand;
    }

    public override IEnumerable<ScalarNode> Children => [_operand];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var operand = _operand.Evaluate(input, context);
        if (operand is ConstantColumn c)
        {
            return new ConstantColumn(KqlType.Bool, Scalars.ToBool(c.Value) is { } b ? !b : null, input.RowCount);
        }
        var (values, nulls) = ColumnViews.Bools(operand);
        var result = new bool[input.RowCount];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = !values[i];
        }
        return ColumnViews.BoolColumn(result, nulls is null ? null : (bool[])nulls.Clone());
    }
}

/// <summary><c>isnull</c>/<c>isnotnull</c> and <c>isempty</c>/<c>isnotempty</c> (empty: null or the empty string).</summary>
internal sealed class NullTestNode : ScalarNode
{
    private readonly ScalarNode _operand;
    private readonly bool _empty;
    private readonly bool _negated;

    public NullTestNode(ScalarNode operand, bool empty, bool negated)
        : base(KqlType.Bool)
    {
        _operand = operand;
        _empty = empty;
        _negated = negated;
    }

    public override IEnumerable<ScalarNode> Children => [_operand];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var operand = _operand.Evaluate(input, context);
        if (operand is ConstantColumn c)
        {
            return new ConstantColumn(KqlType.Bool, Test(c.Value) != _negated, n);
        }
        var m = operand.Materialize();
        var result = new bool[n];
        switch (m)
        {
            case StringColumn s:
                for (var i = 0; i < n; i++)
                {
                    result[i] = (_empty && s.Values[i].Length == 0) != _negated;
                }
                break;
            case DynamicColumn:
                for (var i = 0; i < n; i++)
                {
                    result[i] = Test(m.GetValue(i)) != _negated;
                }
                break;
            default:
                for (var i = 0; i < n; i++)
                {
                    result[i] = m.IsNull(i) != _negated;
                }
                break;
        }
        return ColumnViews.BoolColumn(result, null);
    }

    private bool Test(object? value) => value switch
    {
        null => true,
        string s => _empty && s.Length == 0,
        System.Text.Json.Nodes.JsonNode node when _empty => Scalars.DynamicScalar(node) is string { Length: 0 } || IsEmptyContainer(node),
        _ => false,
    };

    private static bool IsEmptyContainer(System.Text.Json.Nodes.JsonNode node) => node switch
    {
        System.Text.Json.Nodes.JsonArray a => a.Count == 0,
        System.Text.Json.Nodes.JsonObject o => o.Count == 0,
        _ => false,
    };
}
