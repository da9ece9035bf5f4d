using System.Collections.Immutable;
using System.Text;
using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>The MV_ functions: they take a position's values whole.</summary>
internal static class MultiValueFunctions
{
    /// <summary>The values of a position given to a <see cref="MultiValueMode.Whole"/> function: none, one, or an array.</summary>
    public static IReadOnlyList<object?> Values(object? arg) => arg switch
    {
        null => [],
        ImmutableArray<object?> many => many,
        _ => [arg],
    };

    private static object? Result(List<object?> values) => values.Count switch
    {
        0 => null,
        1 => values[0],
        _ => values.ToImmutableArray(),
    };

    public static void Register(Dictionary<string, FunctionBinder> functions)
    {
        functions["MV_COUNT"] = call =>
        {
            call.Arity(1);
            return call.Scalar(EsqlType.Integer, a => Values(a[0]).Count, MultiValueMode.Whole);
        };
        functions["MV_FIRST"] = call => Same(call, v => v[0]);
        functions["MV_LAST"] = call => Same(call, v => v[^1]);
        functions["MV_MIN"] = call => Same(call, v => v.Min(ValueComparer.For(call.Args[0].Type)));
        functions["MV_MAX"] = call => Same(call, v => v.Max(ValueComparer.For(call.Args[0].Type)));
        functions["MV_DEDUPE"] = call => Same(call, v => Result([.. v.Distinct()]));
        functions["MV_SUM"] = call => Numeric(call, sameType: true, Sum);
        functions["MV_AVG"] = call => Numeric(call, sameType: false, (v, _) => v.Sum(System.Convert.ToDouble) / v.Count);
        functions["MV_MEDIAN"] = call => Numeric(call, sameType: true, Median);
        functions["MV_CONCAT"] = call =>
        {
            call.Arity(2);
            call.ExpectString(0);
            call.ExpectString(1);
            return call.Scalar(EsqlType.Keyword, a =>
            {
                var values = Values(a[0]);
                var delimiter = (string)a[1]!;
                var text = new StringBuilder();
                for (var i = 0; i < values.Count; i++)
                {
                    if (i > 0)
                    {
                        text.Append(delimiter);
                    }
                    text.Append((string)values[i]!);
                }
                return text.ToString();
            }, MultiValueMode.Whole);
        };
        functions["MV_SORT"] = call =>
        {
            call.Arity(1, 2);
            var descending = false;
            if (call.Count == 2)
            {
                call.ExpectString(1);
                var order = call.Constant(1).Value as string;
                if (!string.Equals(order, "ASC", StringComparison.OrdinalIgnoreCase) && !string.Equals(order, "DESC", StringComparison.OrdinalIgnoreCase))
                {
                    throw call.Binder.Error(call.Syntax.Args[1].Span, $"Invalid order value in [{call.Text}], expected one of [ASC, DESC] but got [{order}]");
                }
                descending = string.Equals(order, "DESC", StringComparison.OrdinalIgnoreCase);
            }
            var comparer = ValueComparer.For(call.Args[0].Type);
            return new ScalarEvaluator(call.Args[0].Type, call.Span, [call.Args[0]], a =>
            {
                var sorted = Values(a[0]).ToList();
                sorted.Sort(comparer);
                if (descending)
                {
                    sorted.Reverse();
                }
                return Result(sorted);
            }, MultiValueMode.Whole);
        };
        functions["MV_SLICE"] = call =>
        {
            call.Arity(2, 3);
            call.ExpectInteger(1);
            call.Convert(1, EsqlType.Integer);
            if (call.Count == 3)
            {
                call.ExpectInteger(2);
                call.Convert(2, EsqlType.Integer);
            }
            return call.Scalar(call.Args[0].Type, a =>
            {
                var values = Values(a[0]);
                var start = (int)a[1]!;
                var end = a.Length > 2 ? (int)a[2]! : start;
                if ((start < 0) != (end < 0) || (start >= 0 && start > end) || (start < 0 && start > end))
                {
                    throw EvaluationFailure.InvalidArgument($"Start offset is greater than end offset");
                }
                if (start < 0)
                {
                    start += values.Count;
                    end += values.Count;
                }
                var slice = new List<object?>();
                for (var i = Math.Max(start, 0); i <= end && i < values.Count; i++)
                {
                    slice.Add(values[i]);
                }
                return Result(slice);
            }, MultiValueMode.Whole);
        };
        functions["MV_APPEND"] = call =>
        {
            call.Arity(2);
            var type = ConditionalFunctions.Unify(call, [0, 1]);
            return call.Scalar(type, a => Result([.. Values(a[0]), .. Values(a[1])]), MultiValueMode.Whole, nullsPropagate: false);
        };
        functions["MV_CONTAINS"] = call =>
        {
            call.Arity(2);
            ConditionalFunctions.Unify(call, [0, 1]);
            // Null is the empty set: every set contains it, and it contains only it.
            return call.Scalar(EsqlType.Boolean, a =>
            {
                var superset = Values(a[0]);
                return Values(a[1]).All(v => superset.Contains(v));
            }, MultiValueMode.Whole, nullsPropagate: false);
        };
    }

    private static Evaluator Same(FunctionCall call, Func<IReadOnlyList<object?>, object?> function)
    {
        call.Arity(1);
        return call.Scalar(call.Args[0].Type, a => function(Values(a[0])), MultiValueMode.Whole);
    }

    private static Evaluator Numeric(FunctionCall call, bool sameType, Func<IReadOnlyList<object?>, EsqlType, object?> function)
    {
        call.Arity(1);
        call.ExpectNumeric(0);
        var type = call.Type(0);
        return call.Scalar(sameType ? type : EsqlType.Double, a => function(Values(a[0]), type), MultiValueMode.Whole);
    }

    private static object? Sum(IReadOnlyList<object?> values, EsqlType type)
    {
        switch (type)
        {
            case EsqlType.Integer:
                {
                    long sum = 0;
                    foreach (var v in values)
                    {
                        sum += (int)v!;
                    }
                    return sum is > int.MaxValue or < int.MinValue ? throw EvaluationFailure.Arithmetic("integer overflow") : (int)sum;
                }
            case EsqlType.Long:
                {
                    long sum = 0;
                    foreach (var v in values)
                    {
                        try
                        {
                            sum = checked(sum + (long)v!);
                        }
                        catch (OverflowException)
                        {
                            throw EvaluationFailure.Arithmetic("long overflow");
                        }
                    }
                    return sum;
                }
            default:
                return values.Sum(v => (double)v!);
        }
    }

    /// <summary>The middle value; for an even count the mean of the two middle ones, rounded down for integers.</summary>
    private static object? Median(IReadOnlyList<object?> values, EsqlType type)
    {
        var sorted = values.ToList();
        sorted.Sort(ValueComparer.For(type));
        var mid = sorted.Count / 2;
        if (sorted.Count % 2 == 1)
        {
            return sorted[mid];
        }
        return type switch
        {
            EsqlType.Integer => (object)(int)DateRounding.FloorDiv((long)(int)sorted[mid - 1]! + (int)sorted[mid]!, 2),
            EsqlType.Long => (object)(long)Math.Floor(((decimal)(long)sorted[mid - 1]! + (long)sorted[mid]!) / 2),
            _ => (object)(((double)sorted[mid - 1]! + (double)sorted[mid]!) / 2),
        };
    }
}
