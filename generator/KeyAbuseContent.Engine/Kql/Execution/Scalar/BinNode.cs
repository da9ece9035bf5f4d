using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>
/// <c>bin(value, size)</c> (and <c>floor</c>): rounds down to a multiple of size. Integers, datetimes and timespans
/// floor on their ticks, so negative values and datetimes before the epoch round down too; datetimes are aligned
/// to 0001-01-01 (tick 0). A size of zero or less gives null.
/// </summary>
internal sealed class BinNode : ScalarNode
{
    private readonly ScalarNode _value;
    private readonly ScalarNode _size;

    public BinNode(KqlType type, ScalarNode value, ScalarNode size)
        : base(type)
    {
        _value = value;
        _size = size;
    }

    public override IEnumerable<ScalarNode> Children => [_value, _size];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var n = input.RowCount;
        var value = _value.Evaluate(input, context);
        var size = _size.Evaluate(input, context);
        if (value is ConstantColumn vc && size is ConstantColumn sc)
        {
            return new ConstantColumn(Type, Bin(Type, vc.Value, sc.Value), n);
        }
        if (Type != KqlType.Real && size is ConstantColumn s && ColumnViews.ConstantLong(s.Value) is { } step && step > 0)
        {
            var (values, nulls) = ColumnViews.Longs(value);
            var result = new long[n];
            for (var i = 0; i < n; i++)
            {
                result[i] = FloorLong(values[i], step);
            }
            return new ValueColumn<long>(Type, result, nulls, n);
        }
        var v = value.Materialize();
        var z = size.Materialize();
        var builder = ColumnBuilder.Create(Type, n);
        for (var i = 0; i < n; i++)
        {
            builder.Add(Bin(Type, v.GetValue(i), z.GetValue(i)));
        }
        return builder.Build();
    }

    public static long FloorLong(long value, long step)
    {
        var q = value / step;
        if (value % step != 0 && value < 0)
        {
            q--;
        }
        return q * step;
    }

    /// <summary>bin on boxed values, giving a value of <paramref name="type"/>.</summary>
    public static object? Bin(KqlType type, object? value, object? size)
    {
        if (value is null || size is null)
        {
            return null;
        }
        if (type == KqlType.Real)
        {
            if (ColumnViews.ConstantDouble(value) is not { } v || ColumnViews.ConstantDouble(size) is not { } s || s <= 0)
            {
                return null;
            }
            return Math.Floor(v / s) * s;
        }
        if (ColumnViews.ConstantLong(value) is not { } lv || ColumnViews.ConstantLong(size) is not { } ls || ls <= 0)
        {
            return null;
        }
        var floored = FloorLong(lv, ls);
        return type switch
        {
            KqlType.DateTime => new DateTime(floored, DateTimeKind.Utc),
            KqlType.TimeSpan => new TimeSpan(floored),
            _ => floored,
        };
    }
}
