using KeyAbuseContent.Engine.Esql.Evaluation;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;
using KeyAbuseContent.Engine.Esql.Types;

namespace KeyAbuseContent.Engine.Esql.Functions;

/// <summary>Date functions, in UTC (the executor has no time zone setting, like a query without <c>time_zone</c>).</summary>
internal static class DateFunctions
{
    private static readonly Dictionary<string, string> DiffUnits = new(StringComparer.OrdinalIgnoreCase)
    {
        ["year"] = "year",
        ["years"] = "year",
        ["yy"] = "year",
        ["yyyy"] = "year",
        ["quarter"] = "quarter",
        ["quarters"] = "quarter",
        ["qq"] = "quarter",
        ["q"] = "quarter",
        ["month"] = "month",
        ["months"] = "month",
        ["mm"] = "month",
        ["m"] = "month",
        ["dayofyear"] = "day",
        ["dy"] = "day",
        ["y"] = "day",
        ["day"] = "day",
        ["days"] = "day",
        ["dd"] = "day",
        ["d"] = "day",
        ["week"] = "week",
        ["weeks"] = "week",
        ["wk"] = "week",
        ["ww"] = "week",
        ["weekday"] = "day",
        ["weekdays"] = "day",
        ["dw"] = "day",
        ["hour"] = "hour",
        ["hours"] = "hour",
        ["hh"] = "hour",
        ["minute"] = "minute",
        ["minutes"] = "minute",
        ["mi"] = "minute",
        ["n"] = "minute",
        ["second"] = "second",
        ["seconds"] = "second",
        ["ss"] = "second",
        ["s"] = "second",
        ["millisecond"] = "millisecond",
        ["milliseconds"] = "millisecond",
        ["ms"] = "millisecond",
        ["microsecond"] = "microsecond",
        ["microseconds"] = "microsecond",
        ["mcs"] = "microsecond",
        ["nanosecond"] = "nanosecond",
        ["nanoseconds"] = "nanosecond",
        ["ns"] = "nanosecond",
    };

    private const string DiffUnitList = "[YEAR, QUARTER, MONTH, DAYOFYEAR, DAY, WEEK, WEEKDAY, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, NANOSECOND]";

    public static void Register(Dictionary<string, FunctionBinder> functions)
    {
        functions["NOW"] = call =>
        {
            call.Arity(0);
            return new NowEvaluator(call.Span);
        };
        functions["DATE_TRUNC"] = DateTrunc;
        functions["BUCKET"] = Bucket;
        functions["DATE_EXTRACT"] = DateExtract;
        functions["DATE_DIFF"] = DateDiff;
        functions["DATE_FORMAT"] = DateFormat;
        functions["DATE_PARSE"] = DateParse;
        functions["DAY_NAME"] = call =>
        {
            call.Arity(1);
            call.ExpectDate(0);
            return call.Scalar(EsqlType.Keyword, a => ValueFormat.ToDateTime((long)a[0]!).DayOfWeek.ToString());
        };
        functions["MONTH_NAME"] = call =>
        {
            call.Arity(1);
            call.ExpectDate(0);
            return call.Scalar(EsqlType.Keyword, a => System.Globalization.CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(ValueFormat.ToDateTime((long)a[0]!).Month));
        };
    }

    private static Evaluator DateTrunc(FunctionCall call)
    {
        call.Arity(2);
        call.Expect(0, "date_period or time_duration", t => t is EsqlType.DatePeriod or EsqlType.TimeDuration);
        call.ExpectDate(1);
        if (call.AnyNullLiteral)
        {
            return call.Null(EsqlType.Date);
        }
        var interval = call.Constant(0);
        var rounding = Rounding(call, interval.Value!, 0);
        return new DateTruncEvaluator(call.Span, rounding, call.Args[1]);
    }

    private static DateRounding Rounding(FunctionCall call, object interval, int argument)
    {
        string? error;
        var rounding = interval is DatePeriod period ? DateRounding.FromPeriod(period, out error) : DateRounding.FromDuration((long)interval, out error);
        if (error is not null)
        {
            throw call.Binder.Error(call.Span, $"Function [{call.Text}] has invalid interval [{call.Binder.Text(call.Syntax.Args[argument])}]. {error}");
        }
        return rounding;
    }

    /// <summary>BUCKET(field, span) or BUCKET(field, buckets, from, to): a date rounding, or floor(x / span) * span for numbers.</summary>
    private static Evaluator Bucket(FunctionCall call)
    {
        call.Arity(2, 4);
        if (call.Count == 3)
        {
            throw call.Error($"function expects exactly two or four arguments, found 3 in [{call.Text}]");
        }
        var fieldType = call.Type(0);
        if (fieldType == EsqlType.Date)
        {
            if (call.Count == 2)
            {
                call.Expect(1, "date_period or time_duration", t => t is EsqlType.DatePeriod or EsqlType.TimeDuration);
                return new DateTruncEvaluator(call.Span, Rounding(call, call.Constant(1).Value!, 1), call.Args[0]);
            }
            call.ExpectInteger(1);
            call.ExpectDate(2);
            call.ExpectDate(3);
            var buckets = System.Convert.ToInt32(call.Constant(1).Value, System.Globalization.CultureInfo.InvariantCulture);
            var from = (long)call.Constant(2).Value!;
            var to = (long)call.Constant(3).Value!;
            return new DateTruncEvaluator(call.Span, DateRounding.Pick(buckets, from, to), call.Args[0]);
        }
        if (EsqlTypes.IsNumeric(fieldType))
        {
            double span;
            if (call.Count == 2)
            {
                call.ExpectNumeric(1);
                span = System.Convert.ToDouble(call.Constant(1).Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                call.ExpectInteger(1);
                call.ExpectNumeric(2);
                call.ExpectNumeric(3);
                var buckets = System.Convert.ToDouble(call.Constant(1).Value, System.Globalization.CultureInfo.InvariantCulture);
                var from = System.Convert.ToDouble(call.Constant(2).Value, System.Globalization.CultureInfo.InvariantCulture);
                var to = System.Convert.ToDouble(call.Constant(3).Value, System.Globalization.CultureInfo.InvariantCulture);
                var precise = (to - from) / buckets;
                var nextPowerOfTen = Math.Pow(10, Math.Ceiling(Math.Log10(precise)));
                var halfPower = nextPowerOfTen / 2;
                span = precise < halfPower ? halfPower : nextPowerOfTen;
            }
            call.Convert(0, EsqlType.Double);
            return call.Scalar(EsqlType.Double, a => Math.Floor((double)a[0]! / span) * span);
        }
        if (fieldType == EsqlType.Null)
        {
            return call.Null(EsqlType.Null);
        }
        throw call.Binder.Error(call.Syntax.Args[0].Span, $"first argument of [{call.Text}] must be [datetime or numeric], found value [{call.Binder.Text(call.Syntax.Args[0])}] type [{EsqlTypes.Name(call.Args[0].Type)}]");
    }

    private static Evaluator DateExtract(FunctionCall call)
    {
        call.Arity(2);
        call.ExpectString(0);
        call.ExpectDate(1);
        if (call.Args[0] is ConstantEvaluator { Value: string part })
        {
            var extract = Extractor(part) ?? throw call.Binder.Error(call.Syntax.Args[0].Span,
                $"invalid date field for [{call.Text}]: [{part}]; a valid date extract part is a java.time.temporal.ChronoField such as DAY_OF_WEEK, HOUR_OF_DAY or YEAR");
            return call.Scalar(EsqlType.Long, a => extract(ValueFormat.ToDateTime((long)a[1]!), (long)a[1]!));
        }
        return call.Scalar(EsqlType.Long, a =>
        {
            var extract = Extractor((string)a[0]!) ?? throw EvaluationFailure.IllegalArgument($"No enum constant java.time.temporal.ChronoField.{((string)a[0]!).ToUpperInvariant()}");
            return extract(ValueFormat.ToDateTime((long)a[1]!), (long)a[1]!);
        });
    }

    /// <summary>A <c>java.time.temporal.ChronoField</c> read from a UTC time; DAY_OF_WEEK is ISO (Monday is 1).</summary>
    private static Func<DateTime, long, long>? Extractor(string field) => field.ToUpperInvariant() switch
    {
        "YEAR" or "YEAR_OF_ERA" => (t, _) => t.Year,
        "MONTH_OF_YEAR" => (t, _) => t.Month,
        "DAY_OF_MONTH" => (t, _) => t.Day,
        "DAY_OF_YEAR" => (t, _) => t.DayOfYear,
        "DAY_OF_WEEK" => (t, _) => ((int)t.DayOfWeek + 6) % 7 + 1,
        "HOUR_OF_DAY" => (t, _) => t.Hour,
        "CLOCK_HOUR_OF_DAY" => (t, _) => t.Hour == 0 ? 24 : t.Hour,
        "HOUR_OF_AMPM" => (t, _) => t.Hour % 12,
        "CLOCK_HOUR_OF_AMPM" => (t, _) => t.Hour % 12 == 0 ? 12 : t.Hour % 12,
        "AMPM_OF_DAY" => (t, _) => t.Hour < 12 ? 0 : 1,
        "MINUTE_OF_HOUR" => (t, _) => t.Minute,
        "MINUTE_OF_DAY" => (t, _) => (t.Hour * 60) + t.Minute,
        "SECOND_OF_MINUTE" => (t, _) => t.Second,
        "SECOND_OF_DAY" => (t, _) => (long)t.TimeOfDay.TotalSeconds,
        "MILLI_OF_SECOND" => (t, _) => t.Millisecond,
        "MILLI_OF_DAY" => (t, _) => (long)t.TimeOfDay.TotalMilliseconds,
        "MICRO_OF_SECOND" => (t, _) => t.Millisecond * 1000L,
        "MICRO_OF_DAY" => (t, _) => (long)t.TimeOfDay.TotalMilliseconds * 1000L,
        "NANO_OF_SECOND" => (t, _) => t.Millisecond * 1_000_000L,
        "NANO_OF_DAY" => (t, _) => (long)t.TimeOfDay.TotalMilliseconds * 1_000_000L,
        "EPOCH_DAY" => (_, ms) => DateRounding.FloorDiv(ms, DateRounding.Day),
        "INSTANT_SECONDS" => (_, ms) => DateRounding.FloorDiv(ms, 1000),
        "ALIGNED_WEEK_OF_YEAR" => (t, _) => ((t.DayOfYear - 1) / 7) + 1,
        "ALIGNED_WEEK_OF_MONTH" => (t, _) => ((t.Day - 1) / 7) + 1,
        "ALIGNED_DAY_OF_WEEK_IN_MONTH" => (t, _) => ((t.Day - 1) % 7) + 1,
        "ALIGNED_DAY_OF_WEEK_IN_YEAR" => (t, _) => ((t.DayOfYear - 1) % 7) + 1,
        "PROLEPTIC_MONTH" => (t, _) => (t.Year * 12L) + t.Month - 1,
        "ERA" => (_, _) => 1,
        "OFFSET_SECONDS" => (_, _) => 0,
        _ => null,
    };

    private static Evaluator DateDiff(FunctionCall call)
    {
        call.Arity(3);
        call.ExpectString(0);
        call.ExpectDate(1);
        call.ExpectDate(2);
        if (call.Args[0] is ConstantEvaluator { Value: string unitText })
        {
            var unit = DiffUnits.GetValueOrDefault(unitText)
                ?? throw call.Binder.Error(call.Syntax.Args[0].Span, $"A value of {DiffUnitList} or their aliases is required; received [{unitText}]");
            return call.Scalar(EsqlType.Integer, a => Diff(unit, (long)a[1]!, (long)a[2]!));
        }
        return call.Scalar(EsqlType.Integer, a =>
        {
            var unit = DiffUnits.GetValueOrDefault((string)a[0]!)
                ?? throw EvaluationFailure.IllegalArgument($"A value of {DiffUnitList} or their aliases is required; received [{a[0]}]");
            return Diff(unit, (long)a[1]!, (long)a[2]!);
        });
    }

    /// <summary>Whole units elapsed from start to end, truncated toward zero, as Java's <c>ChronoUnit.between</c> counts them.</summary>
    public static int Diff(string unit, long start, long end)
    {
        long result = unit switch
        {
            "year" => MonthsBetween(start, end) / 12,
            "quarter" => MonthsBetween(start, end) / 3,
            "month" => MonthsBetween(start, end),
            "week" => DaysBetween(start, end) / 7,
            "day" => DaysBetween(start, end),
            "hour" => (end - start) / DateRounding.Hour,
            "minute" => (end - start) / DateRounding.Minute,
            "second" => (end - start) / DateRounding.Second,
            "millisecond" => end - start,
            "microsecond" => Multiply(end - start, 1000),
            _ => Multiply(end - start, 1_000_000),
        };
        return Conversions.LongToInt(result);
    }

    private static long Multiply(long a, long b)
    {
        var high = Math.BigMul(a, b, out var low);
        return (high == 0 && low >= 0) || (high == -1 && low < 0) ? low : throw EvaluationFailure.Arithmetic("long overflow");
    }

    /// <summary>LocalDateTime.until for date units: the end date moves a day back when its time of day is earlier.</summary>
    private static (DateTime Start, DateTime EndDate) DateSpan(long start, long end)
    {
        var s = ValueFormat.ToDateTime(start);
        var e = ValueFormat.ToDateTime(end);
        var endDate = e.Date;
        if (endDate > s.Date && e.TimeOfDay < s.TimeOfDay)
        {
            endDate = endDate.AddDays(-1);
        }
        else if (endDate < s.Date && e.TimeOfDay > s.TimeOfDay)
        {
            endDate = endDate.AddDays(1);
        }
        return (s, endDate);
    }

    private static long DaysBetween(long start, long end)
    {
        var (s, endDate) = DateSpan(start, end);
        return (long)(endDate - s.Date).TotalDays;
    }

    private static long MonthsBetween(long start, long end)
    {
        var (s, endDate) = DateSpan(start, end);
        var packed1 = ((((long)s.Year * 12) + s.Month - 1) * 32) + s.Day;
        var packed2 = ((((long)endDate.Year * 12) + endDate.Month - 1) * 32) + endDate.Day;
        return (packed2 - packed1) / 32;
    }

    private static Evaluator DateFormat(FunctionCall call)
    {
        call.Arity(1, 2);
        var dateIndex = call.Count - 1;
        call.ExpectDate(dateIndex);
        if (call.Count == 1)
        {
            return call.Scalar(EsqlType.Keyword, a => ValueFormat.Date((long)a[0]!));
        }
        call.ExpectString(0);
        if (call.Args[0] is ConstantEvaluator { Value: string pattern })
        {
            var format = Compile(call, pattern);
            return call.Scalar(EsqlType.Keyword, a => format.Format((long)a[1]!));
        }
        return call.Scalar(EsqlType.Keyword, a => CompileAtRun((string)a[0]!).Format((long)a[1]!));
    }

    private static Evaluator DateParse(FunctionCall call)
    {
        call.Arity(1, 2);
        var textIndex = call.Count - 1;
        call.ExpectString(textIndex);
        if (call.Count == 1)
        {
            return call.Scalar(EsqlType.Date, a => Conversions.ParseDate((string)a[0]!));
        }
        call.ExpectString(0);
        JavaDateFormat? constant = call.Args[0] is ConstantEvaluator { Value: string pattern } ? Compile(call, pattern) : null;
        return call.Scalar(EsqlType.Date, a =>
        {
            var format = constant ?? CompileAtRun((string)a[0]!);
            var text = (string)a[1]!;
            return format.TryParse(text, out var millis)
                ? millis
                : throw EvaluationFailure.IllegalArgument($"failed to parse date field [{text}] with format [{a[0]}]");
        });
    }

    private static JavaDateFormat Compile(FunctionCall call, string pattern)
    {
        try
        {
            return JavaDateFormat.Compile(pattern);
        }
        catch (FormatException e)
        {
            throw call.Binder.Error(call.Syntax.Args[0].Span, $"invalid date pattern [{pattern}] in [{call.Text}]: {e.Message}");
        }
    }

    private static JavaDateFormat CompileAtRun(string pattern)
    {
        try
        {
            return JavaDateFormat.Compile(pattern);
        }
        catch (FormatException e)
        {
            throw EvaluationFailure.IllegalArgument(e.Message);
        }
    }
}

/// <summary>DATE_TRUNC and date BUCKET: a typed loop over epoch milliseconds.</summary>
internal sealed class DateTruncEvaluator(TextSpan span, DateRounding rounding, Evaluator input) : Evaluator(EsqlType.Date, span)
{
    public override IReadOnlyList<Evaluator> Children => [input];

    public override Block Eval(Page page, EvalContext context)
    {
        var block = (Block<long>)input.Eval(page, context);
        var count = page.PositionCount;
        if (block.IsDense && rounding is DateRounding.FixedRounding fixedRounding)
        {
            var source = block.Values;
            var values = new long[count];
            var interval = fixedRounding.Interval;
            Morsels.For(count, (start, end) =>
            {
                for (var p = start; p < end; p++)
                {
                    var v = source[p];
                    var q = v / interval;
                    values[p] = (v % interval < 0 ? q - 1 : q) * interval;
                }
            });
            return new Block<long>(EsqlType.Date, count, values);
        }
        var builder = new BlockBuilder<long>(EsqlType.Date, count);
        for (var p = 0; p < count; p++)
        {
            if (BinaryLoop.Single(block, p, Span, context))
            {
                builder.Append(rounding.Round(block.Value(p)));
            }
            else
            {
                builder.AppendNull();
            }
        }
        return builder.Build();
    }
}
