using System.Globalization;
using KeyAbuseContent.Engine.Esql.Execution;
using KeyAbuseContent.Engine.Esql.Syntax;

namespace KeyAbuseContent.Engine.Esql.Types;

/// <summary>
/// Conversions between ES|QL types, as the <c>TO_*</c> functions and <c>::</c> casts do them, with
/// Elasticsearch's rules: doubles round half up to integers (Java's <c>Math.round</c>), strings parse as numbers
/// with a fallback through double, out-of-range values fail the row with Elasticsearch's message.
/// Values are in storage types (see <see cref="Block"/>).
/// </summary>
internal static class Conversions
{
    public static bool IsSupported(EsqlType from, EsqlType to)
    {
        from = EsqlTypes.Widen(from);
        to = EsqlTypes.Widen(to);
        if (from == to || from == EsqlType.Null)
        {
            return true;
        }
        return to switch
        {
            EsqlType.Keyword => from is not EsqlType.Unsupported,
            EsqlType.Long or EsqlType.Integer or EsqlType.Double => from is EsqlType.Integer or EsqlType.Long or EsqlType.Double or EsqlType.Keyword or EsqlType.Boolean or EsqlType.Date,
            EsqlType.Boolean => from is EsqlType.Integer or EsqlType.Long or EsqlType.Double or EsqlType.Keyword or EsqlType.Date,
            EsqlType.Date => from is EsqlType.Integer or EsqlType.Long or EsqlType.Double or EsqlType.Keyword,
            EsqlType.Ip => from is EsqlType.Keyword,
            EsqlType.TimeDuration or EsqlType.DatePeriod => from is EsqlType.Keyword,
            _ => false,
        };
    }

    /// <summary>Converts one value; throws <see cref="EvaluationFailure"/> when this value cannot be converted.</summary>
    public static object Convert(object value, EsqlType from, EsqlType to)
    {
        from = EsqlTypes.Widen(from);
        to = EsqlTypes.Widen(to);
        if (from == to)
        {
            return value;
        }
        return to switch
        {
            EsqlType.Keyword => ToKeyword(value, from),
            EsqlType.Long => ToLong(value, from),
            EsqlType.Integer => ToInteger(value, from),
            EsqlType.Double => ToDouble(value, from),
            EsqlType.Boolean => ToBoolean(value, from),
            EsqlType.Date => ToDate(value, from),
            EsqlType.Ip => ToIp((string)value),
            EsqlType.TimeDuration or EsqlType.DatePeriod => ToTimeSpan((string)value, to),
            _ => throw EvaluationFailure.InvalidArgument($"cannot convert [{value}] to [{EsqlTypes.Name(to)}]"),
        };
    }

    public static string ToKeyword(object value, EsqlType from) => from switch
    {
        EsqlType.Integer => ((int)value).ToString(CultureInfo.InvariantCulture),
        EsqlType.Long => ((long)value).ToString(CultureInfo.InvariantCulture),
        EsqlType.Double => ValueFormat.Double((double)value),
        EsqlType.Boolean => (bool)value ? "true" : "false",
        EsqlType.Date => ValueFormat.Date((long)value),
        EsqlType.Ip => ValueFormat.Ip((UInt128)value),
        EsqlType.TimeDuration => System.Xml.XmlConvert.ToString(TimeSpan.FromMilliseconds((long)value)),
        EsqlType.DatePeriod => ((DatePeriod)value).ToString(),
        _ => (string)value,
    };

    /// <summary>Java's <c>Math.round</c>: half up, toward positive infinity.</summary>
    public static double RoundHalfUp(double x)
    {
        var floor = Math.Floor(x);
        return x - floor >= 0.5 ? floor + 1 : floor;
    }

    public static long DoubleToLong(double x)
    {
        if (double.IsNaN(x) || x > 9.2233720368547758E18 || x < -9.2233720368547758E18)
        {
            throw EvaluationFailure.InvalidArgument($"[{ValueFormat.Double(x)}] out of [long] range");
        }
        var rounded = RoundHalfUp(x);
        return rounded >= 9.2233720368547758E18 ? long.MaxValue : (long)rounded;
    }

    public static int LongToInt(long x) => x is > int.MaxValue or < int.MinValue
        ? throw EvaluationFailure.InvalidArgument($"[{x}] out of [integer] range")
        : (int)x;

    private static long ToLong(object value, EsqlType from) => from switch
    {
        EsqlType.Integer => (int)value,
        EsqlType.Double => DoubleToLong((double)value),
        EsqlType.Boolean => (bool)value ? 1 : 0,
        EsqlType.Date => (long)value,
        _ => StringToLong((string)value),
    };

    private static int ToInteger(object value, EsqlType from) => from switch
    {
        EsqlType.Long or EsqlType.Date => LongToInt((long)value),
        EsqlType.Double => DoubleToInt((double)value),
        EsqlType.Boolean => (bool)value ? 1 : 0,
        _ => StringToInt((string)value),
    };

    private static int DoubleToInt(double x)
    {
        if (double.IsNaN(x) || x > int.MaxValue || x < int.MinValue)
        {
            throw EvaluationFailure.InvalidArgument($"[{ValueFormat.Double(x)}] out of [integer] range");
        }
        return (int)RoundHalfUp(x);
    }

    private static double ToDouble(object value, EsqlType from) => from switch
    {
        EsqlType.Integer => (int)value,
        EsqlType.Long or EsqlType.Date => (long)value,
        EsqlType.Boolean => (bool)value ? 1 : 0,
        _ => StringToDouble((string)value),
    };

    private static bool ToBoolean(object value, EsqlType from) => from switch
    {
        EsqlType.Integer => (int)value != 0,
        EsqlType.Long or EsqlType.Date => (long)value != 0,
        EsqlType.Double => (double)value != 0,
        _ => string.Equals((string)value, "true", StringComparison.OrdinalIgnoreCase),
    };

    private static long ToDate(object value, EsqlType from) => from switch
    {
        EsqlType.Integer => (int)value,
        EsqlType.Long => (long)value,
        EsqlType.Double => DoubleToLong((double)value),
        _ => ParseDate((string)value),
    };

    public static long ParseDate(string text) => ValueFormat.TryParseDate(text, out var millis)
        ? millis
        : throw EvaluationFailure.IllegalArgument($"failed to parse date field [{text}] with format [strict_date_optional_time]");

    public static UInt128 ToIp(string text) => ValueFormat.TryParseIp(text, out var ip)
        ? ip
        : throw EvaluationFailure.IllegalArgument($"'{text}' is not an IP string literal.");

    private static object ToTimeSpan(string text, EsqlType to)
    {
        var value = TimeUnits.ParseText(text);
        return (value, to) switch
        {
            (TimeSpan span, EsqlType.TimeDuration) => (long)span.TotalMilliseconds,
            (DatePeriod period, EsqlType.DatePeriod) => period,
            _ => throw EvaluationFailure.InvalidArgument($"Cannot parse [{text}] to {EsqlTypes.Name(to).ToUpperInvariant()}"),
        };
    }

    public static long StringToLong(string text)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }
        if (TryParseJavaDouble(text, out var d))
        {
            try
            {
                return DoubleToLong(d);
            }
            catch (EvaluationFailure)
            {
            }
        }
        throw EvaluationFailure.InvalidArgument($"Cannot parse number [{text}]");
    }

    public static int StringToInt(string text)
    {
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i))
        {
            return i;
        }
        if (TryParseJavaDouble(text, out var d))
        {
            try
            {
                return DoubleToInt(d);
            }
            catch (EvaluationFailure)
            {
            }
        }
        throw EvaluationFailure.InvalidArgument($"Cannot parse number [{text}]");
    }

    public static double StringToDouble(string text) => TryParseJavaDouble(text, out var d)
        ? d
        : throw EvaluationFailure.InvalidArgument($"Cannot parse number [{text}]");

    /// <summary>Java's <c>Double.parseDouble</c> for decimal text (surrounding whitespace allowed); finite values only.</summary>
    private static bool TryParseJavaDouble(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
