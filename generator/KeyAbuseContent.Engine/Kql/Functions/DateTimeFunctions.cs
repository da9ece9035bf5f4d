using System.Globalization;
using System.Text;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Functions;

// Datetime and timespan functions. now() and ago() read the run's fixed clock.
internal static partial class ScalarFunctions
{
    private static IEnumerable<ScalarFunction> DateTimes()
    {
        yield return F("now", 0, 1, ResultNaming.None, c => new ClockNode(c.Args.IsEmpty ? null : c.Args[0], (now, v) => Scalars.ToTimeSpan(v) is { } offset ? now + offset : null));
        yield return F("ago", 1, 1, ResultNaming.None, c =>
        {
            c.Expect(0, t => t == KqlType.TimeSpan, "a timespan");
            return new ClockNode(c.Args[0], (now, v) => v is null ? null : now - (TimeSpan)v);
        });
        yield return F("bin", 2, 2, ResultNaming.FirstArgument, Bin);
        yield return F("floor", 2, 2, ResultNaming.FirstArgument, Bin);
        yield return F("bin_at", 3, 3, ResultNaming.FirstArgument, BinAt);
        yield return F("startofday", 1, 2, ResultNaming.FirstArgument, c => Period(c, (d, n) => d.Date.AddDays(n)));
        yield return F("startofweek", 1, 2, ResultNaming.None, c => Period(c, (d, n) => d.Date.AddDays(-(int)d.DayOfWeek).AddDays(7 * n)));
        yield return F("startofmonth", 1, 2, ResultNaming.None, c => Period(c, (d, n) => new DateTime(d.Year, d.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths((int)n)));
        yield return F("startofyear", 1, 2, ResultNaming.None, c => Period(c, (d, n) => new DateTime(d.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddYears((int)n)));
        yield return F("endofday", 1, 2, ResultNaming.None, c => Period(c, (d, n) => d.Date.AddDays(n + 1).AddTicks(-1)));
        yield return F("endofweek", 1, 2, ResultNaming.None, c => Period(c, (d, n) => d.Date.AddDays(-(int)d.DayOfWeek).AddDays((7 * n) + 7).AddTicks(-1)));
        yield return F("endofmonth", 1, 2, ResultNaming.None, c => Period(c, (d, n) => new DateTime(d.Year, d.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths((int)n + 1).AddTicks(-1)));
        yield return F("endofyear", 1, 2, ResultNaming.None, c => Period(c, (d, n) => new DateTime(d.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddYears((int)n + 1).AddTicks(-1)));
        yield return F("dayofweek", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.TimeSpan, d => TimeSpan.FromDays((int)d.DayOfWeek)));
        yield return F("hourofday", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.Int, d => d.Hour));
        yield return F("dayofmonth", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.Int, d => d.Day));
        yield return F("dayofyear", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.Int, d => d.DayOfYear));
        yield return F("getyear", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.Int, d => d.Year));
        yield return F("getmonth", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.Int, d => d.Month));
        yield return F("monthofyear", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.Int, d => d.Month));
        yield return F("week_of_year", 1, 1, ResultNaming.None, c => DatePart(c, KqlType.Int, d => ISOWeek.GetWeekOfYear(d)));
        yield return F("datetime_part", 2, 2, ResultNaming.None, c => c.Row(KqlType.Int, a =>
            a[0] is string part && Scalars.ToDateTime(a[1]) is { } d ? Part(part, d) : null));
        yield return F("datetime_diff", 3, 3, ResultNaming.None, c => c.Row(KqlType.Long, a =>
            a[0] is string part && Scalars.ToDateTime(a[1]) is { } d1 && Scalars.ToDateTime(a[2]) is { } d2 ? Diff(part, d1, d2) : null));
        yield return F("datetime_add", 3, 3, ResultNaming.None, c => c.Row(KqlType.DateTime, a =>
            a[0] is string part && Scalars.ToLong(a[1]) is { } amount && Scalars.ToDateTime(a[2]) is { } d ? Add(part, amount, d) : null));
        yield return F("format_datetime", 2, 2, ResultNaming.FirstArgument, c => c.Row(KqlType.String, a =>
            Scalars.ToDateTime(a[0]) is { } d && a[1] is string format ? DateTimeFormat.Format(d, format) : ""));
        yield return F("format_timespan", 2, 2, ResultNaming.FirstArgument, c => c.Row(KqlType.String, a =>
            Scalars.ToTimeSpan(a[0]) is { } t && a[1] is string format ? DateTimeFormat.Format(t, format) : ""));
        yield return F("make_datetime", 1, 7, ResultNaming.None, c => c.Row(KqlType.DateTime, MakeDateTime));
        yield return F("unixtime_seconds_todatetime", 1, 1, ResultNaming.None, c => FromUnix(c, TimeSpan.TicksPerSecond));
        yield return F("unixtime_milliseconds_todatetime", 1, 1, ResultNaming.None, c => FromUnix(c, TimeSpan.TicksPerMillisecond));
        yield return F("unixtime_microseconds_todatetime", 1, 1, ResultNaming.None, c => FromUnix(c, 10));
        yield return F("unixtime_nanoseconds_todatetime", 1, 1, ResultNaming.None, c => FromUnix(c, 0.01));
    }

    private static ScalarNode Bin(FunctionCall call)
    {
        var (value, size) = (call.Type(0), call.Type(1));
        var type = (value, size) switch
        {
            (KqlType.DateTime, KqlType.TimeSpan) => KqlType.DateTime,
            (KqlType.TimeSpan, KqlType.TimeSpan) => KqlType.TimeSpan,
            (KqlType.Int or KqlType.Long, KqlType.Int or KqlType.Long) => KqlType.Long,
            (KqlType.Real, _) or (_, KqlType.Real) when value.IsNumeric() && size.IsNumeric() => KqlType.Real,
            _ => throw call.Error($"{call.Name}() rounds a number by a number, or a datetime or timespan by a timespan; not {value.Name()} by {size.Name()}"),
        };
        return new BinNode(type, call.Args[0], call.Args[1]);
    }

    private static ScalarNode BinAt(FunctionCall call)
    {
        var type = call.Type(0) == KqlType.Int ? KqlType.Long : call.Type(0);
        return call.Row(type, a =>
        {
            if (a[0] is null || a[1] is null || a[2] is null)
            {
                return null;
            }
            if (type == KqlType.Real || a[1] is double)
            {
                var (v, s, f) = (ColumnViews.ConstantDouble(a[0])!.Value, ColumnViews.ConstantDouble(a[1])!.Value, ColumnViews.ConstantDouble(a[2])!.Value);
                return s <= 0 ? null : (Math.Floor((v - f) / s) * s) + f;
            }
            var (lv, ls, lf) = (ColumnViews.ConstantLong(a[0])!.Value, ColumnViews.ConstantLong(a[1])!.Value, ColumnViews.ConstantLong(a[2])!.Value);
            if (ls <= 0)
            {
                return null;
            }
            var binned = BinNode.FloorLong(lv - lf, ls) + lf;
            return type switch
            {
                KqlType.DateTime => new DateTime(binned, DateTimeKind.Utc),
                KqlType.TimeSpan => new TimeSpan(binned),
                _ => binned,
            };
        });
    }

    /// <summary>startof*/endof* with an optional offset in periods.</summary>
    private static ScalarNode Period(FunctionCall call, Func<DateTime, long, DateTime> compute)
    {
        call.Expect(0, t => t is KqlType.DateTime or KqlType.Dynamic, "a datetime");
        return call.Row(KqlType.DateTime, a =>
        {
            if (Scalars.ToDateTime(a[0]) is not { } d)
            {
                return null;
            }
            var offset = a.Length > 1 ? Scalars.ToLong(a[1]) ?? 0 : 0;
            try
            {
                return DateTime.SpecifyKind(compute(d, offset), DateTimeKind.Utc);
            }
            catch (ArgumentOutOfRangeException)
            {
                return null;
            }
        });
    }

    private static ScalarNode DatePart(FunctionCall call, KqlType type, Func<DateTime, object> part)
    {
        call.Expect(0, t => t is KqlType.DateTime or KqlType.Dynamic, "a datetime");
        return call.Row(type, a => Scalars.ToDateTime(a[0]) is { } d ? part(d) : null);
    }

    private static int? Part(string part, DateTime d) => part.ToLowerInvariant() switch
    {
        "year" => d.Year,
        "quarter" => ((d.Month - 1) / 3) + 1,
        "month" => d.Month,
        "week_of_year" or "week" => ISOWeek.GetWeekOfYear(d),
        "day" => d.Day,
        "dayofyear" => d.DayOfYear,
        "hour" => d.Hour,
        "minute" => d.Minute,
        "second" => d.Second,
        "millisecond" => d.Millisecond,
        "microsecond" => (int)(d.Ticks % TimeSpan.TicksPerSecond / 10),
        "nanosecond" => (int)(d.Ticks % TimeSpan.TicksPerSecond * 100),
        _ => null,
    };

    /// <summary>datetime_diff: how many period boundaries lie between <paramref name="d2"/> and <paramref name="d1"/> (d1 - d2).</summary>
    public static long? Diff(string part, DateTime d1, DateTime d2)
    {
        static long Floor(long ticks, long unit) => BinNode.FloorLong(ticks, unit) / unit;
        return part.ToLowerInvariant() switch
        {
            "year" => d1.Year - d2.Year,
            "quarter" => ((d1.Year * 4) + ((d1.Month - 1) / 3)) - ((d2.Year * 4) + ((d2.Month - 1) / 3)),
            "month" => ((d1.Year * 12) + d1.Month) - ((d2.Year * 12) + d2.Month),
            "week" => (d1.Date.AddDays(-(int)d1.DayOfWeek) - d2.Date.AddDays(-(int)d2.DayOfWeek)).Days / 7,
            "day" => Floor(d1.Ticks, TimeSpan.TicksPerDay) - Floor(d2.Ticks, TimeSpan.TicksPerDay),
            "hour" => Floor(d1.Ticks, TimeSpan.TicksPerHour) - Floor(d2.Ticks, TimeSpan.TicksPerHour),
            "minute" => Floor(d1.Ticks, TimeSpan.TicksPerMinute) - Floor(d2.Ticks, TimeSpan.TicksPerMinute),
            "second" => Floor(d1.Ticks, TimeSpan.TicksPerSecond) - Floor(d2.Ticks, TimeSpan.TicksPerSecond),
            "millisecond" => Floor(d1.Ticks, TimeSpan.TicksPerMillisecond) - Floor(d2.Ticks, TimeSpan.TicksPerMillisecond),
            "microsecond" => Floor(d1.Ticks, 10) - Floor(d2.Ticks, 10),
            "nanosecond" => (d1.Ticks - d2.Ticks) * 100,
            _ => null,
        };
    }

    private static DateTime? Add(string part, long amount, DateTime d)
    {
        try
        {
            return part.ToLowerInvariant() switch
            {
                "year" => d.AddYears((int)amount),
                "quarter" => d.AddMonths((int)(3 * amount)),
                "month" => d.AddMonths((int)amount),
                "week" => d.AddDays(7 * amount),
                "day" => d.AddDays(amount),
                "hour" => d.AddHours(amount),
                "minute" => d.AddMinutes(amount),
                "second" => d.AddSeconds(amount),
                "millisecond" => d.AddMilliseconds(amount),
                "microsecond" => d.AddTicks(10 * amount),
                "nanosecond" => d.AddTicks(amount / 100),
                _ => null,
            };
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static object? MakeDateTime(object?[] a)
    {
        if (a.Length == 1)
        {
            return Scalars.ToDateTime(a[0]);
        }
        var parts = a.Select(v => Scalars.ToReal(v)).ToArray();
        if (parts.Any(p => p is null) || a.Length < 3)
        {
            return null;
        }
        try
        {
            var d = new DateTime((int)parts[0]!.Value, (int)parts[1]!.Value, (int)parts[2]!.Value, 0, 0, 0, DateTimeKind.Utc);
            if (parts.Length > 3)
            {
                d = d.AddHours(parts[3]!.Value);
            }
            if (parts.Length > 4)
            {
                d = d.AddMinutes(parts[4]!.Value);
            }
            if (parts.Length > 5)
            {
                d = d.AddTicks((long)Math.Round(parts[5]!.Value * TimeSpan.TicksPerSecond));
            }
            return d;
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static ScalarNode FromUnix(FunctionCall call, double ticksPerUnit) => call.Row1(KqlType.DateTime, v =>
    {
        if (Scalars.ToReal(v) is not { } n)
        {
            return null;
        }
        var ticks = n * ticksPerUnit;
        return ticks is > -6.21355968E17 and < 2.5e18 ? DateTime.UnixEpoch.AddTicks((long)ticks) : null;
    });
}

/// <summary>format_datetime and format_timespan: Kusto's format specifiers, mapped to .NET with every separator literal.</summary>
internal static class DateTimeFormat
{
    public static string Format(DateTime d, string format) => Translate(format, spec => d.ToString(spec, CultureInfo.InvariantCulture));

    public static string Format(TimeSpan t, string format)
    {
        var total = t.Duration();
        return (t < TimeSpan.Zero ? "-" : "") + Translate(format, run => Part(total, run.TrimStart('%')));
    }

    private static string Part(TimeSpan total, string spec)
    {
        var digits = new string('0', spec.Length);
        return spec[0] switch
        {
            'd' => ((int)total.TotalDays).ToString(digits, CultureInfo.InvariantCulture),
            'h' or 'H' => total.Hours.ToString(digits, CultureInfo.InvariantCulture),
            'm' => total.Minutes.ToString(digits, CultureInfo.InvariantCulture),
            's' => total.Seconds.ToString(digits, CultureInfo.InvariantCulture),
            'f' or 'F' => new DateTime(total.Ticks % TimeSpan.TicksPerSecond).ToString(spec.Length == 1 ? "%" + spec : spec, CultureInfo.InvariantCulture),
            _ => spec,
        };
    }

    /// <summary>Runs of one specifier letter are formatted by <paramref name="format"/>; everything else is copied.</summary>
    private static string Translate(string pattern, Func<string, string> format)
    {
        var result = new StringBuilder();
        for (var i = 0; i < pattern.Length;)
        {
            var c = pattern[i];
            if ("yMdHhmsfFt".Contains(c))
            {
                var j = i;
                while (j < pattern.Length && pattern[j] == c)
                {
                    j++;
                }
                var run = pattern[i..j];
                // A single letter alone is a .NET standard format: '%' makes it custom.
                result.Append(format(run.Length == 1 ? "%" + run : run));
                i = j;
            }
            else
            {
                result.Append(c);
                i++;
            }
        }
        return result.ToString();
    }
}
