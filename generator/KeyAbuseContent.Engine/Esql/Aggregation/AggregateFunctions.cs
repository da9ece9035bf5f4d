using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Planning;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Aggregation;

/// <summary>ES|QL's aggregate functions: their names, and the binding of the ones the executor runs.</summary>
internal static class AggregateFunctions
{
    private static readonly HashSet<string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX", "MEDIAN", "MEDIAN_ABSOLUTE_DEVIATION", "PERCENTILE",
        "STD_DEV", "VARIANCE", "VALUES", "TOP", "WEIGHTED_AVG", "SAMPLE", "FIRST", "LAST", "ABSENT", "PRESENT",
        "RATE", "SPATIAL_CENTROID", "ST_CENTROID_AGG", "ST_EXTENT_AGG", "FIRST_OVER_TIME", "LAST_OVER_TIME",
    };

    public static bool IsAggregate(string name) => Names.Contains(name);

    /// <summary>Binds an aggregate call; its arguments read the STATS input through <paramref name="input"/>.</summary>
    public static AggregateSpec Bind(CallExpr call, Binder input, Evaluator? filter)
    {
        var name = call.Name.ToUpperInvariant();
        var text = input.Text(call);
        if (name == "COUNT" && (call.Star || call.Args.IsEmpty))
        {
            return new AggregateSpec(new CountRowsAggregator(call.Span), null, filter);
        }
        var args = call.Args.Select(input.Bind).ToList();
        if (call.Star)
        {
            throw input.Error(call.Span, $"[*] is only allowed in COUNT(*), not in [{text}]");
        }
        void Arity(int min, int max)
        {
            if (args.Count < min || args.Count > max)
            {
                throw input.Error(call.Span, $"[{name}] takes {(min == max ? $"exactly {min}" : $"{min} to {max}")} argument{(max == 1 ? "" : "s")}, found {args.Count} in [{text}]");
            }
        }
        EsqlException TypeError(int i, string expected) => input.Error(call.Args[i].Span,
            $"{(args.Count == 1 ? "argument" : $"{Binder.Ordinal(i + 1)} argument")} of [{text}] must be [{expected}], found value [{input.Text(call.Args[i])}] type [{EsqlTypes.Name(args[i].Type)}]");
        var arg = args.Count > 0 ? args[0] : null;
        var type = arg is null ? EsqlType.Null : EsqlTypes.Widen(arg.Type);
        switch (name)
        {
            case "COUNT":
                Arity(1, 1);
                return new AggregateSpec(new CountValuesAggregator(call.Span), arg, filter);
            case "COUNT_DISTINCT":
                Arity(1, 2);
                return new AggregateSpec(Typed(type, call.Span, new CountDistinctFactory(call.Span)) ?? new CountRowsAggregator(call.Span), arg, filter);
            case "SUM" or "AVG":
                {
                    Arity(1, 1);
                    var average = name == "AVG";
                    Aggregator aggregator = type switch
                    {
                        EsqlType.Integer => new LongSumAggregator<int>(call.Span, average, v => v),
                        EsqlType.Long => new LongSumAggregator<long>(call.Span, average, v => v),
                        EsqlType.Double => new DoubleSumAggregator(call.Span, average),
                        EsqlType.Null => new DoubleSumAggregator(call.Span, average),
                        _ => throw TypeError(0, "numeric except unsigned_long or counter types"),
                    };
                    return new AggregateSpec(aggregator, type == EsqlType.Null ? null : arg, filter);
                }
            case "MIN" or "MAX":
                {
                    Arity(1, 1);
                    var max = name == "MAX";
                    Aggregator aggregator = type switch
                    {
                        EsqlType.Integer => new ExtremeAggregator<int, IntOrder>(arg!.Type, call.Span, max),
                        EsqlType.Long or EsqlType.Date => new ExtremeAggregator<long, LongOrder>(arg!.Type, call.Span, max),
                        EsqlType.Double => new ExtremeAggregator<double, DoubleOrder>(arg!.Type, call.Span, max),
                        EsqlType.Boolean => new ExtremeAggregator<bool, BooleanOrder>(arg!.Type, call.Span, max),
                        EsqlType.Ip => new ExtremeAggregator<UInt128, IpOrder>(arg!.Type, call.Span, max),
                        EsqlType.Keyword => new ExtremeAggregator<string, KeywordOrder>(arg!.Type, call.Span, max),
                        EsqlType.Null => new ExtremeAggregator<bool, BooleanOrder>(EsqlType.Null, call.Span, max),
                        _ => throw TypeError(0, "boolean, date, ip, string or numeric except unsigned_long or counter types"),
                    };
                    return new AggregateSpec(aggregator, arg, filter);
                }
            case "MEDIAN" or "MEDIAN_ABSOLUTE_DEVIATION" or "STD_DEV" or "VARIANCE":
                {
                    Arity(1, 1);
                    var statistic = name switch
                    {
                        "MEDIAN" => DoubleStatistic.Percentile,
                        "MEDIAN_ABSOLUTE_DEVIATION" => DoubleStatistic.MedianAbsoluteDeviation,
                        "STD_DEV" => DoubleStatistic.StandardDeviation,
                        _ => DoubleStatistic.Variance,
                    };
                    return new AggregateSpec(Statistic(type, call.Span, statistic, 50) ?? throw TypeError(0, "numeric except unsigned_long or counter types"), arg, filter);
                }
            case "PERCENTILE":
                {
                    Arity(2, 2);
                    if (args[1] is not ConstantEvaluator { Value: { } p } || !EsqlTypes.IsNumeric(args[1].Type))
                    {
                        throw TypeError(1, "a numeric constant");
                    }
                    var percentile = Convert.ToDouble(p, System.Globalization.CultureInfo.InvariantCulture);
                    if (percentile is < 0 or > 100)
                    {
                        throw input.Error(call.Args[1].Span, $"Percentile must be in the range [0, 100], found [{input.Text(call.Args[1])}] in [{text}]");
                    }
                    return new AggregateSpec(Statistic(type, call.Span, DoubleStatistic.Percentile, percentile) ?? throw TypeError(0, "numeric except unsigned_long or counter types"), arg, filter);
                }
            case "VALUES":
                Arity(1, 1);
                return new AggregateSpec(Typed(type, call.Span, new ValuesFactory(arg!.Type, call.Span)) ?? throw TypeError(0, "any type except counter types"), arg, filter);
            case "TOP":
                {
                    Arity(3, 3);
                    if (args[1] is not ConstantEvaluator { Value: int limit } || limit <= 0)
                    {
                        throw TypeError(1, "a positive integer constant");
                    }
                    if (args[2] is not ConstantEvaluator { Value: string order } || (!order.Equals("asc", StringComparison.OrdinalIgnoreCase) && !order.Equals("desc", StringComparison.OrdinalIgnoreCase)))
                    {
                        throw input.Error(call.Args[2].Span, $"Invalid order value in [{text}], expected [ASC, DESC] but got [{input.Text(call.Args[2])}]");
                    }
                    var descending = order.Equals("desc", StringComparison.OrdinalIgnoreCase);
                    return new AggregateSpec(Typed(type, call.Span, new TopFactory(arg!.Type, call.Span, limit, descending)) ?? throw TypeError(0, "boolean, date, ip, keyword or numeric"), arg, filter);
                }
            case "WEIGHTED_AVG":
                {
                    Arity(2, 2);
                    if (!EsqlTypes.IsNumeric(type))
                    {
                        throw TypeError(0, "numeric");
                    }
                    if (!EsqlTypes.IsNumeric(args[1].Type))
                    {
                        throw TypeError(1, "numeric");
                    }
                    return new AggregateSpec(new WeightedAverageAggregator(call.Span), Cast.To(arg!, EsqlType.Double, arg!.Span), filter, Cast.To(args[1], EsqlType.Double, args[1].Span));
                }
            default:
                throw input.Error(call.NameSpan, $"the aggregate function [{name}] is outside the subset the embedded executor runs");
        }
    }

    private static Aggregator? Statistic(EsqlType type, TextSpan span, DoubleStatistic statistic, double percentile) => type switch
    {
        EsqlType.Integer => new DoubleStatisticAggregator<int>(span, statistic, percentile, v => v),
        EsqlType.Long => new DoubleStatisticAggregator<long>(span, statistic, percentile, v => v),
        EsqlType.Double => new DoubleStatisticAggregator<double>(span, statistic, percentile, v => v),
        EsqlType.Null => new DoubleStatisticAggregator<double>(span, statistic, percentile, v => v),
        _ => null,
    };

    /// <summary>An aggregator for the storage type of <paramref name="type"/>.</summary>
    private static Aggregator? Typed(EsqlType type, TextSpan span, ITypedFactory factory) => type switch
    {
        EsqlType.Integer => factory.Create<int, IntOrder>(),
        EsqlType.Long or EsqlType.Date => factory.Create<long, LongOrder>(),
        EsqlType.Double => factory.Create<double, DoubleOrder>(),
        EsqlType.Boolean or EsqlType.Null => factory.Create<bool, BooleanOrder>(),
        EsqlType.Ip => factory.Create<UInt128, IpOrder>(),
        EsqlType.Keyword => factory.Create<string, KeywordOrder>(),
        _ => null,
    };

    private interface ITypedFactory
    {
        Aggregator Create<T, TOrder>()
            where T : notnull
            where TOrder : IValueOrder<T>;
    }

    private sealed class CountDistinctFactory(TextSpan span) : ITypedFactory
    {
        public Aggregator Create<T, TOrder>()
            where T : notnull
            where TOrder : IValueOrder<T> => new CountDistinctAggregator<T>(span);
    }

    private sealed class ValuesFactory(EsqlType type, TextSpan span) : ITypedFactory
    {
        public Aggregator Create<T, TOrder>()
            where T : notnull
            where TOrder : IValueOrder<T> => new ValuesAggregator<T>(type, span);
    }

    private sealed class TopFactory(EsqlType type, TextSpan span, int limit, bool descending) : ITypedFactory
    {
        public Aggregator Create<T, TOrder>()
            where T : notnull
            where TOrder : IValueOrder<T> => new TopAggregator<T>(type, span, limit, descending, Comparer<T>.Create(TOrder.Compare));
    }
}
