using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>Typed arrays of a column for the kernels: 64-bit integers (long, int, datetime and timespan ticks), reals, strings, bools.</summary>
internal static class ColumnViews
{
    /// <summary>The values as longs (ints widened, datetimes and timespans as ticks) and the null mask.</summary>
    public static (long[] Values, bool[]? Nulls) Longs(Column column)
    {
        switch (column.Materialize())
        {
            case ValueColumn<long> l:
                return (l.Values, l.Nulls);
            case ValueColumn<int> i:
                var widened = new long[i.Count];
                for (var r = 0; r < widened.Length; r++)
                {
                    widened[r] = i.Values[r];
                }
                return (widened, i.Nulls);
            case ValueColumn<bool> b:
                var bits = new long[b.Count];
                for (var r = 0; r < bits.Length; r++)
                {
                    bits[r] = b.Values[r] ? 1 : 0;
                }
                return (bits, b.Nulls);
            default:
                throw new InvalidOperationException($"a {column.Type.Name()} column has no 64-bit integer view");
        }
    }

    /// <summary>The values as reals (integers converted) and the null mask.</summary>
    public static (double[] Values, bool[]? Nulls) Doubles(Column column)
    {
        var m = column.Materialize();
        if (m is ValueColumn<double> d)
        {
            return (d.Values, d.Nulls);
        }
        var (longs, nulls) = Longs(m);
        var values = new double[m.Count];
        for (var r = 0; r < values.Length; r++)
        {
            values[r] = longs[r];
        }
        return (values, nulls);
    }

    /// <summary>The values as strings; a non-string column is converted with tostring().</summary>
    public static string[] Strings(Column column)
    {
        var m = column.Materialize();
        if (m is StringColumn s)
        {
            return s.Values;
        }
        var values = new string[m.Count];
        for (var r = 0; r < values.Length; r++)
        {
            values[r] = Scalars.ToKqlString(m.GetValue(r));
        }
        return values;
    }

    public static (bool[] Values, bool[]? Nulls) Bools(Column column)
    {
        var m = column.Materialize();
        if (m is ValueColumn<bool> b)
        {
            return (b.Values, b.Nulls);
        }
        var values = new bool[m.Count];
        bool[]? nulls = null;
        for (var r = 0; r < values.Length; r++)
        {
            if (Scalars.ToBool(m.GetValue(r)) is { } v)
            {
                values[r] = v;
            }
            else
            {
                nulls ??= new bool[values.Length];
                nulls[r] = true;
            }
        }
        return (values, nulls);
    }

    /// <summary>A constant's value as a long (ticks for datetime and timespan), or null.</summary>
    public static long? ConstantLong(object? value) => value switch
    {
        null => null,
        long l => l,
        int i => i,
        DateTime dt => dt.Ticks,
        TimeSpan ts => ts.Ticks,
        bool b => b ? 1 : 0,
        _ => Scalars.ToLong(value),
    };

    public static double? ConstantDouble(object? value) => value switch
    {
        null => null,
        double d => d,
        _ => ConstantLong(value),
    };

    /// <summary>A bool column from values and a null mask.</summary>
    public static Column BoolColumn(bool[] values, bool[]? nulls) => new ValueColumn<bool>(KqlType.Bool, values, nulls, values.Length);
}
