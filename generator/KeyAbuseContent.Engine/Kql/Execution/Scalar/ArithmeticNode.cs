using System.Numerics;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>How an arithmetic operator computes: on 64-bit integers (long, int, ticks), on reals, or on boxed values.</summary>
internal enum ArithmeticDomain
{
    Long,
    Real,
    Generic,
}

/// <summary>
/// <c>+ - * / %</c> over typed arrays. Integer division truncates toward zero and an integer division by zero is
/// null; real division follows IEEE (division by zero is an infinity). Any null operand gives null.
/// </summary>
internal sealed class ArithmeticNode : ScalarNode
{
    private readonly string _op;
    private readonly ArithmeticDomain _domain;
    private readonly ScalarNode _left;
    private readonly ScalarNode _right;

    public ArithmeticNode(string op, ArithmeticDomain domain, KqlType type, ScalarNode left, ScalarNode right)
        : base(type)
    {
        _op = op;
        _domain = domain;
        _left = left;
        _right = right;
    }

    public override IEnumerable<ScalarNode> Children => [_left, _right];

    public override Column Evaluate(RowSet input, QueryContext context)
    {
        var left = _left.Evaluate(input, context);
        var right = _right.Evaluate(input, context);
        var n = input.RowCount;
        if (left is ConstantColumn lc && right is ConstantColumn rc)
        {
            return new ConstantColumn(Type, Apply(_op, _domain, Type, lc.Value, rc.Value), n);
        }
        return _domain switch
        {
            ArithmeticDomain.Long => Compute<long>(left, right, n, ColumnViews.Longs, ColumnViews.ConstantLong),
            ArithmeticDomain.Real => Compute<double>(left, right, n, ColumnViews.Doubles, ColumnViews.ConstantDouble),
            _ => Generic(left, right, n),
        };
    }

    /// <summary>The operator on two boxed values, in a domain, giving a value of <paramref name="type"/>.</summary>
    public static object? Apply(string op, ArithmeticDomain domain, KqlType type, object? a, object? b)
    {
        if (a is System.Text.Json.Nodes.JsonNode ja)
        {
            a = Scalars.DynamicScalar(ja);
        }
        if (b is System.Text.Json.Nodes.JsonNode jb)
        {
            b = Scalars.DynamicScalar(jb);
        }
        if (a is null || b is null)
        {
            return null;
        }
        if (domain == ArithmeticDomain.Generic)
        {
            // Dynamic operands: integers stay integers, anything with a real is real.
            domain = a is double || b is double ? ArithmeticDomain.Real : ArithmeticDomain.Long;
            if (a is not (long or int or double) || b is not (long or int or double))
            {
                return null;
            }
            type = domain == ArithmeticDomain.Real ? KqlType.Real : KqlType.Long;
        }
        if (domain == ArithmeticDomain.Long)
        {
            if (ColumnViews.ConstantLong(a) is not { } x || ColumnViews.ConstantLong(b) is not { } y)
            {
                return null;
            }
            var r = LongOp(op, x, y);
            return r is { } v ? Box(type, v) : null;
        }
        if (ColumnViews.ConstantDouble(a) is not { } dx || ColumnViews.ConstantDouble(b) is not { } dy)
        {
            return null;
        }
        var d = RealOp(op, dx, dy);
        return type == KqlType.TimeSpan ? new TimeSpan((long)d) : d;
    }

    private static object Box(KqlType type, long v) => type switch
    {
        KqlType.DateTime => new DateTime(v, DateTimeKind.Utc),
        KqlType.TimeSpan => new TimeSpan(v),
        KqlType.Real => (double)v,
        _ => v,
    };

    private static long? LongOp(string op, long x, long y) => op switch
    {
        "+" => unchecked(x + y),
        "-" => unchecked(x - y),
        "*" => unchecked(x * y),
        "/" => y == 0 ? null : x / y,
        _ => y == 0 ? null : x % y,
    };

    private static double RealOp(string op, double x, double y) => op switch
    {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" => x / y,
        _ => x % y,
    };

    private Column Compute<T>(Column left, Column right, int n, Func<Column, (T[] Values, bool[]? Nulls)> view, Func<object?, T?> constant)
        where T : unmanaged, INumber<T>
    {
        T[] lv, rv;
        bool[]? ln = null, rn = null;
        var leftConstant = left is ConstantColumn;
        var rightConstant = right is ConstantColumn;
        T lconst = default, rconst = default;
        if (leftConstant)
        {
            if (constant(((ConstantColumn)left).Value) is not { } c)
            {
                return new ConstantColumn(Type, null, n);
            }
            lconst = c;
            lv = [];
        }
        else
        {
            (lv, ln) = view(left);
        }
        if (rightConstant)
        {
            if (constant(((ConstantColumn)right).Value) is not { } c)
            {
                return new ConstantColumn(Type, null, n);
            }
            rconst = c;
            rv = [];
        }
        else
        {
            (rv, rn) = view(right);
        }
        var result = new T[n];
        bool[]? nulls = null;
        var integer = typeof(T) == typeof(long);
        for (var i = 0; i < n; i++)
        {
            if ((ln is not null && ln[i]) || (rn is not null && rn[i]))
            {
                nulls ??= new bool[n];
                nulls[i] = true;
                continue;
            }
            var x = leftConstant ? lconst : lv[i];
            var y = rightConstant ? rconst : rv[i];
            switch (_op)
            {
                case "+": result[i] = x + y; break;
                case "-": result[i] = x - y; break;
                case "*": result[i] = x * y; break;
                case "/" or "%" when integer && T.IsZero(y):
                    nulls ??= new bool[n];
                    nulls[i] = true;
                    break;
                case "/": result[i] = x / y; break;
                default: result[i] = x % y; break;
            }
        }
        if (Type == KqlType.Real && typeof(T) == typeof(long))
        {
            var reals = new double[n];
            var longs = (long[])(object)result;
            for (var i = 0; i < n; i++)
            {
                reals[i] = longs[i];
            }
            return new ValueColumn<double>(KqlType.Real, reals, nulls, n);
        }
        if (Type == KqlType.TimeSpan && typeof(T) == typeof(double))
        {
            var ticks = new long[n];
            var reals = (double[])(object)result;
            for (var i = 0; i < n; i++)
            {
                ticks[i] = (long)reals[i];
            }
            return new ValueColumn<long>(KqlType.TimeSpan, ticks, nulls, n);
        }
        return new ValueColumn<T>(Type, result, nulls, n);
    }

    private Column Generic(Column left, Column right, int n)
    {
        var l = left.Materialize();
        var r = right.Materialize();
        var builder = ColumnBuilder.Create(Type, n);
        for (var i = 0; i < n; i++)
        {
            builder.Add(Apply(_op, _domain, Type, l.GetValue(i), r.GetValue(i)));
        }
        return builder.Build();
    }
}
