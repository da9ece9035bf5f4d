using System.Text.Json.Nodes;

namespace KeyAbuseContent.Engine.Kql.Storage;

/// <summary>Equality and order of boxed values across KQL types: numbers compare by value, strings ordinally.</summary>
internal static class Ordering
{
    /// <summary>Whether two non-null values are equal (numbers across int, long and real; nodes by their JSON).</summary>
    public static bool ValuesEqual(object a, object b)
    {
        if (a is JsonNode ja)
        {
            a = Scalars.DynamicScalar(ja) ?? "";
        }
        if (b is JsonNode jb)
        {
            b = Scalars.DynamicScalar(jb) ?? "";
        }
        if (IsNumber(a) && IsNumber(b))
        {
            return a is double || b is double ? Convert.ToDouble(a, System.Globalization.CultureInfo.InvariantCulture) == Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture) : ToLong(a) == ToLong(b);
        }
        return (a, b) switch
        {
            (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
            (JsonNode x, JsonNode y) => JsonNode.DeepEquals(x, y),
            (JsonNode, _) or (_, JsonNode) => false,
            _ => a.Equals(b),
        };
    }

    /// <summary>The order of two non-null values of comparable types; null when they are not comparable.</summary>
    public static int? Compare(object a, object b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double)
            {
                return Convert.ToDouble(a, System.Globalization.CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, System.Globalization.CultureInfo.InvariantCulture));
            }
            return ToLong(a).CompareTo(ToLong(b));
        }
        return (a, b) switch
        {
            (string x, string y) => string.CompareOrdinal(x, y),
            (DateTime x, DateTime y) => x.Ticks.CompareTo(y.Ticks),
            (TimeSpan x, TimeSpan y) => x.Ticks.CompareTo(y.Ticks),
            (bool x, bool y) => x.CompareTo(y),
            (Guid x, Guid y) => x.CompareTo(y),
            (JsonNode x, JsonNode y) => string.CompareOrdinal(Scalars.Json(x), Scalars.Json(y)),
            _ => null,
        };
    }

    /// <summary>
    /// A total order for sorting one column: nulls are placed by the caller; values of different kinds (which only
    /// a dynamic column holds) order by kind.
    /// </summary>
    public static int CompareForSort(object a, object b)
    {
        if (Compare(a, b) is { } c)
        {
            return c;
        }
        return Kind(a).CompareTo(Kind(b));
    }

    private static int Kind(object v) => v switch
    {
        bool => 0,
        int or long or double => 1,
        DateTime => 2,
        TimeSpan => 3,
        Guid => 4,
        string => 5,
        _ => 6,
    };

    private static bool IsNumber(object v) => v is int or long or double;

    private static long ToLong(object v) => v switch
    {
        int i => i,
        long l => l,
        _ => 0,
    };
}
