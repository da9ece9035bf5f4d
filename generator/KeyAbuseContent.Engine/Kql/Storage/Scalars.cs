using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Engine.Kql.Storage;

/// <summary>
/// The value model of single values in their interchange form: conversions between KQL types (the <c>to*</c>
/// functions), text forms (<c>tostring</c>), dynamic values, and the order and equality of values.
/// </summary>
internal static class Scalars
{
    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static long? ToLong(object? value) => value switch
    {
        null => null,
        long l => l,
        int i => i,
        double d => double.IsFinite(d) && d is >= long.MinValue and <= long.MaxValue ? (long)d : null,
        bool b => b ? 1 : 0,
        string s => ParseLong(s),
        DateTime dt => dt.Ticks,
        TimeSpan ts => ts.Ticks,
        JsonNode n => ToLong(DynamicScalar(n)),
        _ => null,
    };

    public static int? ToInt(object? value) => ToLong(value) is { } l && l is >= int.MinValue and <= int.MaxValue ? (int)l : value switch
    {
        double d when double.IsFinite(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
        _ => null,
    };

    public static double? ToReal(object? value) => value switch
    {
        null => null,
        double d => d,
        long l => l,
        int i => i,
        bool b => b ? 1 : 0,
        string s => ParseReal(s),
        DateTime dt => dt.Ticks,
        TimeSpan ts => ts.Ticks,
        JsonNode n => ToReal(DynamicScalar(n)),
        _ => null,
    };

    public static bool? ToBool(object? value) => value switch
    {
        null => null,
        bool b => b,
        long l => l != 0,
        int i => i != 0,
        double d => double.IsNaN(d) ? null : d != 0,
        string s => s.Trim().ToLowerInvariant() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => null,
        },
        JsonNode n => ToBool(DynamicScalar(n)),
        _ => null,
    };

    public static DateTime? ToDateTime(object? value) => value switch
    {
        null => null,
        DateTime dt => DateTime.SpecifyKind(dt, DateTimeKind.Utc),
        DateTimeOffset dto => dto.UtcDateTime,
        string s => Literals.TryParseDateTime(s, out var parsed) ? parsed : null,
        JsonNode n => ToDateTime(DynamicScalar(n)),
        _ => null,
    };

    public static TimeSpan? ToTimeSpan(object? value) => value switch
    {
        null => null,
        TimeSpan ts => ts,
        long l => new TimeSpan(l),
        int i => new TimeSpan(i),
        double d when double.IsFinite(d) => new TimeSpan((long)d),
        string s => Literals.TryTimeSpanLiteral(s, out var parsed) ? parsed : null,
        JsonNode n => ToTimeSpan(DynamicScalar(n)),
        _ => null,
    };

    public static Guid? ToGuid(object? value) => value switch
    {
        null => null,
        Guid g => g,
        string s => Guid.TryParse(s, out var g) ? g : null,
        JsonNode n => ToGuid(DynamicScalar(n)),
        _ => null,
    };

    /// <summary>A dynamic value: JSON nodes stay (shared, never modified), scalars become JSON values, null stays null.</summary>
    public static JsonNode? ToDynamic(object? value) => value switch
    {
        null => null,
        JsonNode n => n,
        string s => JsonValue.Create(s),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create((long)i),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        DateTime dt => JsonValue.Create(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        TimeSpan ts => JsonValue.Create(ts),
        Guid g => JsonValue.Create(g),
        DateTimeOffset dto => JsonValue.Create(dto.UtcDateTime),
        _ => throw new ArgumentException($"{value.GetType().Name} is not a KQL value", nameof(value)),
    };

    /// <summary>
    /// The scalar inside a dynamic value: string, long, double, bool, DateTime, TimeSpan, Guid or null; arrays and
    /// objects are returned as they are.
    /// </summary>
    public static object? DynamicScalar(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return node;
        }
        if (value.TryGetValue<JsonElement>(out var element))
        {
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString(),
                JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => null,
            };
        }
        if (value.TryGetValue<string>(out var s))
        {
            return s;
        }
        if (value.TryGetValue<long>(out var lv))
        {
            return lv;
        }
        if (value.TryGetValue<int>(out var iv))
        {
            return (long)iv;
        }
        if (value.TryGetValue<double>(out var dv))
        {
            return dv;
        }
        if (value.TryGetValue<bool>(out var bv))
        {
            return bv;
        }
        if (value.TryGetValue<DateTime>(out var dt))
        {
            return dt;
        }
        if (value.TryGetValue<TimeSpan>(out var ts))
        {
            return ts;
        }
        if (value.TryGetValue<Guid>(out var g))
        {
            return g;
        }
        return value.ToJsonString(CompactJson);
    }

    /// <summary>A copy of a node that can be put into a new array or object (a node has one parent).</summary>
    public static JsonNode? Detached(JsonNode? node) => node?.DeepClone();

    /// <summary>The text of a value as <c>tostring()</c> gives it; null is the empty string.</summary>
    public static string ToKqlString(object? value) => value switch
    {
        null => "",
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => FormatReal(d),
        bool b => b ? "true" : "false",
        DateTime dt => FormatDateTime(dt),
        TimeSpan ts => FormatTimeSpan(ts),
        Guid g => g.ToString("D"),
        JsonNode n => DynamicScalar(n) switch
        {
            null => "",
            string s => s,
            JsonNode node => Json(node),
            var scalar => ToKqlString(scalar),
        },
        DateTimeOffset dto => FormatDateTime(dto.UtcDateTime),
        _ => value.ToString() ?? "",
    };

    /// <summary>Compact JSON, without HTML escaping, as Kusto prints dynamic values.</summary>
    public static string Json(JsonNode? node) => node is null ? "null" : node.ToJsonString(CompactJson);

    /// <summary>A real as Kusto prints it: up to 15 significant digits (.NET Framework's double formatting), NaN, Infinity, -Infinity.</summary>
    public static string FormatReal(double d)
    {
        if (double.IsNaN(d))
        {
            return "NaN";
        }
        if (double.IsPositiveInfinity(d))
        {
            return "Infinity";
        }
        if (double.IsNegativeInfinity(d))
        {
            return "-Infinity";
        }
        return d.ToString("G15", CultureInfo.InvariantCulture);
    }

    /// <summary>ISO 8601 in UTC; the fraction of a second, when there is one, with its seven digits.</summary>
    public static string FormatDateTime(DateTime dt) =>
        dt.Ticks % TimeSpan.TicksPerSecond == 0
            ? dt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : dt.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary><c>[-][d.]hh:mm:ss[.fffffff]</c>, the form Kusto prints timespans in.</summary>
    public static string FormatTimeSpan(TimeSpan ts) => ts.ToString("c", CultureInfo.InvariantCulture);

    private static long? ParseLong(string s)
    {
        var t = s.Trim();
        if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return l;
        }
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && long.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var h))
        {
            return h;
        }
        return ParseReal(t) is { } d && double.IsFinite(d) && d is >= long.MinValue and <= long.MaxValue ? (long)d : null;
    }

    private static double? ParseReal(string s)
    {
        var t = s.Trim();
        switch (t.ToLowerInvariant())
        {
            case "nan": return double.NaN;
            case "inf" or "+inf" or "infinity": return double.PositiveInfinity;
            case "-inf" or "-infinity": return double.NegativeInfinity;
            default: break;
        }
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
    }
}
