using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Evaluation;

/// <summary>
/// <c>+ - * / %</c> on numbers of one type (the binder widens integer &lt; long &lt; double first), on dates and
/// durations. Integer and long overflow, division by zero and non-finite doubles give null with a warning;
/// integer division truncates; <c>MIN / -1</c> wraps as in Java.
/// </summary>
internal sealed class ArithmeticEvaluator(EsqlType type, TextSpan span, BinaryOp op, Evaluator left, Evaluator right) : Evaluator(type, span)
{
    public override IReadOnlyList<Evaluator> Children => [left, right];

    public override Block Eval(Page page, EvalContext context)
    {
        var l = left.Eval(page, context);
        var r = right.Eval(page, context);
        var n = page.PositionCount;
        return (left.Type, right.Type, op) switch
        {
            (EsqlType.Integer, EsqlType.Integer, BinaryOp.Add) => BinaryLoop.Run<int, int, int, IntAdd>(l, r, n, Type, Span, context),
            (EsqlType.Integer, EsqlType.Integer, BinaryOp.Subtract) => BinaryLoop.Run<int, int, int, IntSubtract>(l, r, n, Type, Span, context),
            (EsqlType.Integer, EsqlType.Integer, BinaryOp.Multiply) => BinaryLoop.Run<int, int, int, IntMultiply>(l, r, n, Type, Span, context),
            (EsqlType.Integer, EsqlType.Integer, BinaryOp.Divide) => BinaryLoop.Run<int, int, int, IntDivide>(l, r, n, Type, Span, context),
            (EsqlType.Integer, EsqlType.Integer, BinaryOp.Modulo) => BinaryLoop.Run<int, int, int, IntModulo>(l, r, n, Type, Span, context),
            (EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration, EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration, BinaryOp.Add) => BinaryLoop.Run<long, long, long, LongAdd>(l, r, n, Type, Span, context),
            (EsqlType.Long or EsqlType.Date or EsqlType.TimeDuration, EsqlType.Long or EsqlType.TimeDuration, BinaryOp.Subtract) => BinaryLoop.Run<long, long, long, LongSubtract>(l, r, n, Type, Span, context),
            (EsqlType.Long, EsqlType.Long, BinaryOp.Multiply) => BinaryLoop.Run<long, long, long, LongMultiply>(l, r, n, Type, Span, context),
            (EsqlType.Long, EsqlType.Long, BinaryOp.Divide) => BinaryLoop.Run<long, long, long, LongDivide>(l, r, n, Type, Span, context),
            (EsqlType.Long, EsqlType.Long, BinaryOp.Modulo) => BinaryLoop.Run<long, long, long, LongModulo>(l, r, n, Type, Span, context),
            (EsqlType.Double, EsqlType.Double, BinaryOp.Add) => BinaryLoop.Run<double, double, double, DoubleAdd>(l, r, n, Type, Span, context),
            (EsqlType.Double, EsqlType.Double, BinaryOp.Subtract) => BinaryLoop.Run<double, double, double, DoubleSubtract>(l, r, n, Type, Span, context),
            (EsqlType.Double, EsqlType.Double, BinaryOp.Multiply) => BinaryLoop.Run<double, double, double, DoubleMultiply>(l, r, n, Type, Span, context),
            (EsqlType.Double, EsqlType.Double, BinaryOp.Divide) => BinaryLoop.Run<double, double, double, DoubleDivide>(l, r, n, Type, Span, context),
            (EsqlType.Double, EsqlType.Double, BinaryOp.Modulo) => BinaryLoop.Run<double, double, double, DoubleModulo>(l, r, n, Type, Span, context),
            (EsqlType.Date, EsqlType.DatePeriod, BinaryOp.Add) => BinaryLoop.Run<long, DatePeriod, long, DatePlusPeriod>(l, r, n, Type, Span, context),
            (EsqlType.Date, EsqlType.DatePeriod, BinaryOp.Subtract) => BinaryLoop.Run<long, DatePeriod, long, DateMinusPeriod>(l, r, n, Type, Span, context),
            (EsqlType.DatePeriod, EsqlType.DatePeriod, BinaryOp.Add) => BinaryLoop.Run<DatePeriod, DatePeriod, DatePeriod, PeriodAdd>(l, r, n, Type, Span, context),
            (EsqlType.DatePeriod, EsqlType.DatePeriod, BinaryOp.Subtract) => BinaryLoop.Run<DatePeriod, DatePeriod, DatePeriod, PeriodSubtract>(l, r, n, Type, Span, context),
            _ => throw new InvalidOperationException($"no arithmetic for {left.Type} {op} {right.Type}"),
        };
    }

    private const string DivideByZero = "java.lang.ArithmeticException: / by zero";
    private const string IntegerOverflow = "java.lang.ArithmeticException: integer overflow";
    private const string LongOverflow = "java.lang.ArithmeticException: long overflow";

    private static bool Finite(double value, out double result, out string? failure)
    {
        result = value;
        if (double.IsFinite(value))
        {
            failure = null;
            return true;
        }
        failure = $"java.lang.ArithmeticException: not a finite double number: {ValueFormat.Double(value)}";
        return false;
    }

    private struct IntAdd : IBinaryKernel<int, int, int>
    {
        public static bool TryApply(int l, int r, out int result, out string? failure)
        {
            var wide = (long)l + r;
            result = (int)wide;
            failure = result == wide ? null : IntegerOverflow;
            return failure is null;
        }
    }

    private struct IntSubtract : IBinaryKernel<int, int, int>
    {
        public static bool TryApply(int l, int r, out int result, out string? failure)
        {
            var wide = (long)l - r;
            result = (int)wide;
            failure = result == wide ? null : IntegerOverflow;
            return failure is null;
        }
    }

    private struct IntMultiply : IBinaryKernel<int, int, int>
    {
        public static bool TryApply(int l, int r, out int result, out string? failure)
        {
            var wide = (long)l * r;
            result = (int)wide;
            failure = result == wide ? null : IntegerOverflow;
            return failure is null;
        }
    }

    private struct IntDivide : IBinaryKernel<int, int, int>
    {
        public static bool TryApply(int l, int r, out int result, out string? failure)
        {
            if (r == 0)
            {
                result = 0;
                failure = DivideByZero;
                return false;
            }
            result = r == -1 ? unchecked(-l) : l / r;
            failure = null;
            return true;
        }
    }

    private struct IntModulo : IBinaryKernel<int, int, int>
    {
        public static bool TryApply(int l, int r, out int result, out string? failure)
        {
            if (r == 0)
            {
                result = 0;
                failure = DivideByZero;
                return false;
            }
            result = r == -1 ? 0 : l % r;
            failure = null;
            return true;
        }
    }

    private struct LongAdd : IBinaryKernel<long, long, long>
    {
        public static bool TryApply(long l, long r, out long result, out string? failure)
        {
            result = unchecked(l + r);
            failure = ((l ^ result) & (r ^ result)) < 0 ? LongOverflow : null;
            return failure is null;
        }
    }

    private struct LongSubtract : IBinaryKernel<long, long, long>
    {
        public static bool TryApply(long l, long r, out long result, out string? failure)
        {
            result = unchecked(l - r);
            failure = ((l ^ r) & (l ^ result)) < 0 ? LongOverflow : null;
            return failure is null;
        }
    }

    private struct LongMultiply : IBinaryKernel<long, long, long>
    {
        public static bool TryApply(long l, long r, out long result, out string? failure)
        {
            var wide = Math.BigMul(l, r, out var low);
            result = low;
            failure = (wide == 0 && low >= 0) || (wide == -1 && low < 0) ? null : LongOverflow;
            return failure is null;
        }
    }

    private struct LongDivide : IBinaryKernel<long, long, long>
    {
        public static bool TryApply(long l, long r, out long result, out string? failure)
        {
            if (r == 0)
            {
                result = 0;
                failure = DivideByZero;
                return false;
            }
            result = r == -1 ? unchecked(-l) : l / r;
            failure = null;
            return true;
        }
    }

    private struct LongModulo : IBinaryKernel<long, long, long>
    {
        public static bool TryApply(long l, long r, out long result, out string? failure)
        {
            if (r == 0)
            {
                result = 0;
                failure = DivideByZero;
                return false;
            }
            result = r == -1 ? 0 : l % r;
            failure = null;
            return true;
        }
    }

    private struct DoubleAdd : IBinaryKernel<double, double, double>
    {
        public static bool TryApply(double l, double r, out double result, out string? failure) => Finite(l + r, out result, out failure);
    }

    private struct DoubleSubtract : IBinaryKernel<double, double, double>
    {
        public static bool TryApply(double l, double r, out double result, out string? failure) => Finite(l - r, out result, out failure);
    }

    private struct DoubleMultiply : IBinaryKernel<double, double, double>
    {
        public static bool TryApply(double l, double r, out double result, out string? failure) => Finite(l * r, out result, out failure);
    }

    private struct DoubleDivide : IBinaryKernel<double, double, double>
    {
        public static bool TryApply(double l, double r, out double result, out string? failure)
        {
            if (r == 0)
            {
                result = 0;
                failure = DivideByZero;
                return false;
            }
            return Finite(l / r, out result, out failure);
        }
    }

    private struct DoubleModulo : IBinaryKernel<double, double, double>
    {
        public static bool TryApply(double l, double r, out double result, out string? failure)
        {
            if (r == 0)
            {
                result = 0;
                failure = DivideByZero;
                return false;
            }
            return Finite(l % r, out result, out failure);
        }
    }

    private struct DatePlusPeriod : IBinaryKernel<long, DatePeriod, long>
    {
        public static bool TryApply(long l, DatePeriod r, out long result, out string? failure) => AddPeriod(l, r, out result, out failure);
    }

    private struct DateMinusPeriod : IBinaryKernel<long, DatePeriod, long>
    {
        public static bool TryApply(long l, DatePeriod r, out long result, out string? failure) => AddPeriod(l, r.Negate(), out result, out failure);
    }

    private static bool AddPeriod(long millis, DatePeriod period, out long result, out string? failure)
    {
        try
        {
            result = ValueFormat.ToMillis(period.AddTo(ValueFormat.ToDateTime(millis)));
            failure = null;
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            result = 0;
            failure = "java.time.DateTimeException: Invalid value for Year";
            return false;
        }
    }

    private struct PeriodAdd : IBinaryKernel<DatePeriod, DatePeriod, DatePeriod>
    {
        public static bool TryApply(DatePeriod l, DatePeriod r, out DatePeriod result, out string? failure)
        {
            result = new DatePeriod(l.Months + r.Months, l.Days + r.Days);
            failure = null;
            return true;
        }
    }

    private struct PeriodSubtract : IBinaryKernel<DatePeriod, DatePeriod, DatePeriod>
    {
        public static bool TryApply(DatePeriod l, DatePeriod r, out DatePeriod result, out string? failure)
        {
            result = new DatePeriod(l.Months - r.Months, l.Days - r.Days);
            failure = null;
            return true;
        }
    }
}
