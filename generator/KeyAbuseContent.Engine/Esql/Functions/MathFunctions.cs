using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>Numeric functions, with Elasticsearch's result types and failures (a negative square root is null with a warning).</summary>
internal static class MathFunctions
{
    public static void Register(Dictionary<string, FunctionBinder> functions)
    {
        functions["ABS"] = call => SameType(call, i => Math.Abs((long)i) is var a && a > int.MaxValue ? i : Math.Abs(i), l => l == long.MinValue ? l : Math.Abs(l), Math.Abs);
        functions["CEIL"] = call => SameType(call, i => i, l => l, Math.Ceiling);
        functions["FLOOR"] = call => SameType(call, i => i, l => l, Math.Floor);
        functions["SIGNUM"] = call => ToDouble(call, v => Math.Sign(v));
        functions["ROUND"] = Round;
        functions["SQRT"] = call => ToDouble(call, v => v < 0 ? throw EvaluationFailure.Arithmetic("Square root of negative") : Math.Sqrt(v));
        functions["CBRT"] = call => ToDouble(call, Math.Cbrt);
        functions["LOG10"] = call => ToDouble(call, v => v <= 0 ? throw EvaluationFailure.Arithmetic("Log of non-positive number") : Math.Log10(v));
        functions["EXP"] = call => ToDouble(call, Math.Exp);
        functions["SIN"] = call => ToDouble(call, Math.Sin);
        functions["COS"] = call => ToDouble(call, Math.Cos);
        functions["TAN"] = call => ToDouble(call, Math.Tan);
        functions["SINH"] = call => ToDouble(call, Math.Sinh);
        functions["COSH"] = call => ToDouble(call, Math.Cosh);
        functions["TANH"] = call => ToDouble(call, Math.Tanh);
        functions["ASIN"] = call => ToDouble(call, v => v is < -1 or > 1 ? throw EvaluationFailure.Arithmetic($"asin input out of range [-1, 1]") : Math.Asin(v));
        functions["ACOS"] = call => ToDouble(call, v => v is < -1 or > 1 ? throw EvaluationFailure.Arithmetic($"acos input out of range [-1, 1]") : Math.Acos(v));
        functions["ATAN"] = call => ToDouble(call, Math.Atan);
        functions["PI"] = call => Constant(call, Math.PI);
        functions["E"] = call => Constant(call, Math.E);
        functions["TAU"] = call => Constant(call, Math.Tau);
        functions["POW"] = call => TwoDoubles(call, (b, e) => Finite(Math.Pow(b, e)));
        functions["ATAN2"] = call => TwoDoubles(call, Math.Atan2);
        functions["HYPOT"] = call => TwoDoubles(call, (a, b) => Finite(double.Hypot(a, b)));
        functions["LOG"] = call =>
        {
            if (call.Count == 1)
            {
                return ToDouble(call, v => v <= 0 ? throw EvaluationFailure.Arithmetic("Log of non-positive number") : Math.Log(v));
            }
            return TwoDoubles(call, (b, v) => b <= 0 || v <= 0
                ? throw EvaluationFailure.Arithmetic("Log of non-positive number")
                : b == 1 ? throw EvaluationFailure.Arithmetic("Log of base 1") : Math.Log(v) / Math.Log(b));
        };
    }

    private static double Finite(double value) => double.IsFinite(value)
        ? value
        : throw EvaluationFailure.Arithmetic($"not a finite double number: {ValueFormat.Double(value)}");

    private static ConstantEvaluator Constant(FunctionCall call, double value)
    {
        call.Arity(0);
        return new ConstantEvaluator(EsqlType.Double, call.Span, value);
    }

    private static Evaluator SameType(FunctionCall call, Func<int, int> onInt, Func<long, long> onLong, Func<double, double> onDouble)
    {
        call.Arity(1);
        call.ExpectNumeric(0);
        var type = call.Type(0);
        return type switch
        {
            EsqlType.Integer => call.Scalar(type, a => onInt((int)a[0]!)),
            EsqlType.Long => call.Scalar(type, a => onLong((long)a[0]!)),
            EsqlType.Double => call.Scalar(type, a => onDouble((double)a[0]!)),
            _ => call.Null(EsqlType.Null),
        };
    }

    private static Evaluator ToDouble(FunctionCall call, Func<double, double> function)
    {
        call.Arity(1);
        call.ExpectNumeric(0);
        call.Convert(0, EsqlType.Double);
        return call.Scalar(EsqlType.Double, a => function((double)a[0]!));
    }

    private static Evaluator TwoDoubles(FunctionCall call, Func<double, double, double> function)
    {
        call.Arity(2);
        call.ExpectNumeric(0);
        call.ExpectNumeric(1);
        call.Convert(0, EsqlType.Double);
        call.Convert(1, EsqlType.Double);
        return call.Scalar(EsqlType.Double, a => function((double)a[0]!, (double)a[1]!));
    }

    /// <summary>ROUND(n[, decimals]): half away from zero; integers round to tens, hundreds... with negative decimals.</summary>
    private static Evaluator Round(FunctionCall call)
    {
        call.Arity(1, 2);
        call.ExpectNumeric(0);
        if (call.Count == 2)
        {
            call.ExpectInteger(1);
            call.Convert(1, EsqlType.Long);
        }
        var type = call.Type(0);
        long Decimals(ReadOnlySpan<object?> a) => a.Length > 1 ? (long)a[1]! : 0;
        return type switch
        {
            EsqlType.Integer => call.Scalar(type, a =>
            {
                var rounded = RoundLong((int)a[0]!, Decimals(a));
                return rounded is > int.MaxValue or < int.MinValue ? throw EvaluationFailure.Arithmetic("integer overflow") : (int)rounded;
            }),
            EsqlType.Long => call.Scalar(type, a => RoundLong((long)a[0]!, Decimals(a))),
            EsqlType.Double => call.Scalar(type, a => RoundDouble((double)a[0]!, Decimals(a))),
            _ => call.Null(EsqlType.Null),
        };
    }

    public static double RoundDouble(double value, long decimals)
    {
        if (double.IsNaN(value) || value == 0)
        {
            return 0;
        }
        var scale = Math.Pow(10, decimals);
        if (scale == 0)
        {
            return 0;
        }
        var middle = value * scale;
        if (double.IsInfinity(middle))
        {
            return value;
        }
        var sign = middle >= 0 ? 1 : -1;
        if (middle > long.MinValue + 1 && middle < long.MaxValue)
        {
            return Conversions.RoundHalfUp(Math.Abs(middle)) / scale * sign;
        }
        return (double)Math.Round((decimal)Math.Abs(middle), MidpointRounding.AwayFromZero) / scale * sign;
    }

    public static long RoundLong(long value, long decimals)
    {
        if (value == 0 || decimals >= 0)
        {
            return value;
        }
        if (decimals <= -20)
        {
            return 0;
        }
        var digits = (int)-decimals;
        if (digits == 19)
        {
            return value is >= 5_000_000_000_000_000_000L or <= -5_000_000_000_000_000_000L ? throw EvaluationFailure.Arithmetic("long overflow") : 0;
        }
        var scale = (long)Math.Pow(10, digits);
        var middle = value / scale;
        var remainder = value % scale;
        var half = scale / 2;
        if (remainder >= half)
        {
            middle++;
        }
        else if (remainder <= -half)
        {
            middle--;
        }
        var high = Math.BigMul(middle, scale, out var low);
        return (high == 0 && low >= 0) || (high == -1 && low < 0) ? low : throw EvaluationFailure.Arithmetic("long overflow");
    }
}
