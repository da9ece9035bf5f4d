using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Evaluation;

/// <summary>Orders values of one storage type as Elasticsearch does.</summary>
internal interface IValueOrder<T>
{
    static abstract int Compare(T left, T right);
}

internal struct IntOrder : IValueOrder<int>
{
    public static int Compare(int left, int right) => left.CompareTo(right);
}

internal struct LongOrder : IValueOrder<long>
{
    public static int Compare(long left, long right) => left.CompareTo(right);
}

internal struct DoubleOrder : IValueOrder<double>
{
    public static int Compare(double left, double right) => left.CompareTo(right);
}

internal struct BooleanOrder : IValueOrder<bool>
{
    public static int Compare(bool left, bool right) => left.CompareTo(right);
}

internal struct IpOrder : IValueOrder<UInt128>
{
    public static int Compare(UInt128 left, UInt128 right) => left.CompareTo(right);
}

/// <summary>Keywords compare as their UTF-8 bytes (Lucene's <c>BytesRef</c> order), which is code point order.</summary>
internal struct KeywordOrder : IValueOrder<string>
{
    public static int Compare(string left, string right)
    {
        var length = Math.Min(left.Length, right.Length);
        var i = left.AsSpan(0, length).CommonPrefixLength(right.AsSpan(0, length));
        if (i == length)
        {
            return left.Length.CompareTo(right.Length);
        }
        return Fix(left[i]).CompareTo(Fix(right[i]));
    }

    // UTF-16 orders surrogates (D800-DFFF) before E000-FFFF; code point order puts them after.
    private static int Fix(char c) => c >= 0xD800 ? (c >= 0xE000 ? c - 0x800 : c + 0x2000) : c;
}

internal interface IComparisonTest
{
    static abstract bool Test(int comparison);
}

internal struct EqualTest : IComparisonTest
{
    public static bool Test(int comparison) => comparison == 0;
}

internal struct NotEqualTest : IComparisonTest
{
    public static bool Test(int comparison) => comparison != 0;
}

internal struct LessTest : IComparisonTest
{
    public static bool Test(int comparison) => comparison < 0;
}

internal struct LessOrEqualTest : IComparisonTest
{
    public static bool Test(int comparison) => comparison <= 0;
}

internal struct GreaterTest : IComparisonTest
{
    public static bool Test(int comparison) => comparison > 0;
}

internal struct GreaterOrEqualTest : IComparisonTest
{
    public static bool Test(int comparison) => comparison >= 0;
}

internal struct CompareKernel<T, TOrder, TTest> : IBinaryKernel<T, T, bool>
    where TOrder : IValueOrder<T>
    where TTest : IComparisonTest
{
    public static bool TryApply(T left, T right, out bool result, out string? failure)
    {
        result = TTest.Test(TOrder.Compare(left, right));
        failure = null;
        return true;
    }
}

internal struct CaseInsensitiveEqualKernel : IBinaryKernel<string, string, bool>
{
    public static bool TryApply(string left, string right, out bool result, out string? failure)
    {
        result = string.Equals(left, right, StringComparison.OrdinalIgnoreCase);
        failure = null;
        return true;
    }
}

/// <summary>A comparison of two values of one type (the binder converts both sides first); null when either side is null.</summary>
internal sealed class ComparisonEvaluator(TextSpan span, BinaryOp op, Evaluator left, Evaluator right) : Evaluator(EsqlType.Boolean, span)
{
    public override IReadOnlyList<Evaluator> Children => [left, right];

    public override Block Eval(Page page, EvalContext context)
    {
        var l = left.Eval(page, context);
        var r = right.Eval(page, context);
        if (op == BinaryOp.CaseInsensitiveEqual)
        {
            return BinaryLoop.Run<string, string, bool, CaseInsensitiveEqualKernel>(l, r, page.PositionCount, Type, Span, context);
        }
        return EsqlTypes.Widen(left.Type) switch
        {
            EsqlType.Integer => ByOp<int, IntOrder>(l, r, page.PositionCount, context),
            EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration => ByOp<long, LongOrder>(l, r, page.PositionCount, context),
            EsqlType.Double => ByOp<double, DoubleOrder>(l, r, page.PositionCount, context),
            EsqlType.Boolean => ByOp<bool, BooleanOrder>(l, r, page.PositionCount, context),
            EsqlType.Ip => ByOp<UInt128, IpOrder>(l, r, page.PositionCount, context),
            EsqlType.Keyword => ByOp<string, KeywordOrder>(l, r, page.PositionCount, context),
            _ => throw new InvalidOperationException($"no comparison for {left.Type}"),
        };
    }

    private Block ByOp<T, TOrder>(Block l, Block r, int count, EvalContext context)
        where TOrder : IValueOrder<T> => op switch
        {
            BinaryOp.Equal => BinaryLoop.Run<T, T, bool, CompareKernel<T, TOrder, EqualTest>>(l, r, count, Type, Span, context),
            BinaryOp.NotEqual => BinaryLoop.Run<T, T, bool, CompareKernel<T, TOrder, NotEqualTest>>(l, r, count, Type, Span, context),
            BinaryOp.Less => BinaryLoop.Run<T, T, bool, CompareKernel<T, TOrder, LessTest>>(l, r, count, Type, Span, context),
            BinaryOp.LessOrEqual => BinaryLoop.Run<T, T, bool, CompareKernel<T, TOrder, LessOrEqualTest>>(l, r, count, Type, Span, context),
            BinaryOp.Greater => BinaryLoop.Run<T, T, bool, CompareKernel<T, TOrder, GreaterTest>>(l, r, count, Type, Span, context),
            _ => BinaryLoop.Run<T, T, bool, CompareKernel<T, TOrder, GreaterOrEqualTest>>(l, r, count, Type, Span, context),
        };
}
