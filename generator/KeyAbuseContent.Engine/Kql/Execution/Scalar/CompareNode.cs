using System.Numerics;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Execution.Scalar;

/// <summary>How two operands are compared: as 64-bit integers (long, int, datetime, timespan), reals, strings, or boxed values.</summary>
internal enum CompareDomain
{
    Long,
    Real,
    String,
    Generic,
}

/// <summary>
/// <c>== != &lt; &lt;= &gt; &gt;=</c> over typed arrays. Nulls: <c>==</c> with one null is false and <c>!=</c> true;
/// with two nulls both are null; an ordering with a null is null (which <c>where</c> drops).
/// </summary>
internal sealed class CompareNode : ScalarNode
{
    private readonly string _op;
    private readonly CompareDomain _domain;
    private readonly ScalarNode _left;
    private readonly ScalarNode _right;

    public CompareNode(string op, CompareDomain domain, ScalarNode left, ScalarNode right)
        : base(KqlType.Bool)
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
            return new ConstantColumn(KqlType.Bool, CompareValues(_op, lc.Value, rc.Value), n);
        }
        return _domain switch
        {
            CompareDomain.Long => CompareNumbers(left, right, n, ColumnViews.Longs, ColumnViews.ConstantLong),
            CompareDomain.Real => CompareNumbers(left, right, n, ColumnViews.Doubles, ColumnViews.ConstantDouble),
            CompareDomain.String => CompareStrings(left, right, n),
            _ => CompareGeneric(left, right, n),
        };
    }

    /// <summary>The comparison of two boxed values with KQL's null rules.</summary>
    public static bool? CompareValues(string op, object? a, object? b)
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
            return NullResult(op, a is null && b is null);
        }
        if (op is "==" or "!=")
        {
            var equal = Ordering.ValuesEqual(a, b);
            return op == "==" ? equal : !equal;
        }
        if (Ordering.Compare(a, b) is not { } c)
        {
            return null;
        }
        return Test(op, c);
    }

    private static bool? NullResult(string op, bool bothNull) => op switch
    {
        "==" => bothNull ? null : false,
        "!=" => bothNull ? null : true,
        _ => null,
    };

    private static bool Test(string op, int c) => op switch
    {
        "==" => c == 0,
        "!=" => c != 0,
        "<" => c < 0,
        "<=" => c <= 0,
        ">" => c > 0,
        _ => c >= 0,
    };

    private Column CompareNumbers<T>(Column left, Column right, int n, Func<Column, (T[] Values, bool[]? Nulls)> view, Func<object?, T?> constant)
        where T : struct, IComparisonOperators<T, T, bool>
    {
        var result = new bool[n];
        bool[]? resultNulls = null;
        if (right is ConstantColumn rc)
        {
            var (lv, ln) = view(left);
            if (constant(rc.Value) is not { } c)
            {
                return NullOperand(ln, n);
            }
            switch (_op)
            {
                case "==": Loops.ConstRight<Eq, T>(lv, c, result); break;
                case "!=": Loops.ConstRight<Ne, T>(lv, c, result); break;
                case "<": Loops.ConstRight<Lt, T>(lv, c, result); break;
                case "<=": Loops.ConstRight<Le, T>(lv, c, result); break;
                case ">": Loops.ConstRight<Gt, T>(lv, c, result); break;
                default: Loops.ConstRight<Ge, T>(lv, c, result); break;
            }
            ApplyNulls(result, ref resultNulls, ln, null);
        }
        else if (left is ConstantColumn lc)
        {
            var (rv, rn) = view(right);
            if (constant(lc.Value) is not { } c)
            {
                return NullOperand(rn, n);
            }
            switch (_op)
            {
                case "==": Loops.ConstLeft<Eq, T>(c, rv, result); break;
                case "!=": Loops.ConstLeft<Ne, T>(c, rv, result); break;
                case "<": Loops.ConstLeft<Lt, T>(c, rv, result); break;
                case "<=": Loops.ConstLeft<Le, T>(c, rv, result); break;
                case ">": Loops.ConstLeft<Gt, T>(c, rv, result); break;
                default: Loops.ConstLeft<Ge, T>(c, rv, result); break;
            }
            ApplyNulls(result, ref resultNulls, null, rn);
        }
        else
        {
            var (lv, ln) = view(left);
            var (rv, rn) = view(right);
            switch (_op)
            {
                case "==": Loops.Pairs<Eq, T>(lv, rv, result); break;
                case "!=": Loops.Pairs<Ne, T>(lv, rv, result); break;
                case "<": Loops.Pairs<Lt, T>(lv, rv, result); break;
                case "<=": Loops.Pairs<Le, T>(lv, rv, result); break;
                case ">": Loops.Pairs<Gt, T>(lv, rv, result); break;
                default: Loops.Pairs<Ge, T>(lv, rv, result); break;
            }
            ApplyNulls(result, ref resultNulls, ln, rn);
        }
        return ColumnViews.BoolColumn(result, resultNulls);
    }

    /// <summary>One operand is a null constant: == is false (null where the other is null too), != true, orderings null.</summary>
    private Column NullOperand(bool[]? otherNulls, int n)
    {
        if (_op is not ("==" or "!="))
        {
            return new ConstantColumn(KqlType.Bool, null, n);
        }
        var result = new bool[n];
        bool[]? nulls = null;
        for (var i = 0; i < n; i++)
        {
            if (otherNulls is not null && otherNulls[i])
            {
                nulls ??= new bool[n];
                nulls[i] = true;
            }
            else
            {
                result[i] = _op == "!=";
            }
        }
        return ColumnViews.BoolColumn(result, nulls);
    }

    private void ApplyNulls(bool[] result, ref bool[]? resultNulls, bool[]? leftNulls, bool[]? rightNulls)
    {
        if (leftNulls is null && rightNulls is null)
        {
            return;
        }
        for (var i = 0; i < result.Length; i++)
        {
            var ln = leftNulls is not null && leftNulls[i];
            var rn = rightNulls is not null && rightNulls[i];
            if (!ln && !rn)
            {
                continue;
            }
            if (NullResult(_op, ln && rn) is { } value)
            {
                result[i] = value;
            }
            else
            {
                resultNulls ??= new bool[result.Length];
                resultNulls[i] = true;
                result[i] = false;
            }
        }
    }

    private Column CompareStrings(Column left, Column right, int n)
    {
        var result = new bool[n];
        if (right is ConstantColumn rc)
        {
            var lv = ColumnViews.Strings(left);
            var c = Scalars.ToKqlString(rc.Value);
            for (var i = 0; i < n; i++)
            {
                result[i] = Test(_op, string.CompareOrdinal(lv[i], c));
            }
        }
        else if (left is ConstantColumn lc)
        {
            var rv = ColumnViews.Strings(right);
            var c = Scalars.ToKqlString(lc.Value);
            for (var i = 0; i < n; i++)
            {
                result[i] = Test(_op, string.CompareOrdinal(c, rv[i]));
            }
        }
        else
        {
            var lv = ColumnViews.Strings(left);
            var rv = ColumnViews.Strings(right);
            for (var i = 0; i < n; i++)
            {
                result[i] = Test(_op, string.CompareOrdinal(lv[i], rv[i]));
            }
        }
        return ColumnViews.BoolColumn(result, null);
    }

    private Column CompareGeneric(Column left, Column right, int n)
    {
        var l = left.Materialize();
        var r = right.Materialize();
        var builder = ColumnBuilder.Create(KqlType.Bool, n);
        for (var i = 0; i < n; i++)
        {
            builder.Add(CompareValues(_op, l.GetValue(i), r.GetValue(i)));
        }
        return builder.Build();
    }

    private interface ICompare
    {
        static abstract bool Apply<T>(T a, T b)
            where T : IComparisonOperators<T, T, bool>;
    }

    private readonly struct Eq : ICompare
    {
        public static bool Apply<T>(T a, T b)
            where T : IComparisonOperators<T, T, bool> => a == b;
    }

    private readonly struct Ne : ICompare
    {
        public static bool Apply<T>(T a, T b)
            where T : IComparisonOperators<T, T, bool> => a != b;
    }

    private readonly struct Lt : ICompare
    {
        public static bool Apply<T>(T a, T b)
            where T : IComparisonOperators<T, T, bool> => a < b;
    }

    private readonly struct Le : ICompare
    {
        public static bool Apply<T>(T a, T b)
            where T : IComparisonOperators<T, T, bool> => a <= b;
    }

    private readonly struct Gt : ICompare
    {
        public static bool Apply<T>(T a, T b)
            where T : IComparisonOperators<T, T, bool> => a > b;
    }

    private readonly struct Ge : ICompare
    {
        public static bool Apply<T>(T a, T b)
            where T : IComparisonOperators<T, T, bool> => a >= b;
    }

    // Generic over the operator and the element type, so the JIT emits one tight loop per pair.
    private static class Loops
    {
        public static void ConstRight<TOp, T>(T[] left, T c, bool[] result)
            where TOp : ICompare
            where T : IComparisonOperators<T, T, bool>
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = TOp.Apply(left[i], c);
            }
        }

        public static void ConstLeft<TOp, T>(T c, T[] right, bool[] result)
            where TOp : ICompare
            where T : IComparisonOperators<T, T, bool>
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = TOp.Apply(c, right[i]);
            }
        }

        public static void Pairs<TOp, T>(T[] left, T[] right, bool[] result)
            where TOp : ICompare
            where T : IComparisonOperators<T, T, bool>
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = TOp.Apply(left[i], right[i]);
            }
        }
    }
}
