using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Tests.Engine.Kql.Conformance;

/// <summary>
/// Compares a result with a documented table by the README's rules: names in order; empty, null and "" alike;
/// numbers within a relative 1e-6 (thousands separators ignored); datetimes and timespans by value; booleans
/// case-insensitively or as 1/0; dynamic values structurally as JSON (single quotes allowed); other text trimmed,
/// runs of whitespace as one. Ordered examples compare in order, except that rows tied on the final sort keys may
/// swap; the others compare as multisets.
/// </summary>
internal static partial class ExpectedTable
{
    /// <summary>Null when the result matches; otherwise why not.</summary>
    public static string? Mismatch(LearnExample example, DataTable actual, IReadOnlyList<string> sortKeys)
    {
        var names = actual.Columns.Select(c => c.Name).ToList();
        if (!names.SequenceEqual(example.Columns, StringComparer.Ordinal))
        {
            return $"columns [{string.Join(", ", names)}], expected [{string.Join(", ", example.Columns)}]";
        }
        if (actual.Rows.Count != example.Rows.Count)
        {
            return $"{actual.Rows.Count} rows, expected {example.Rows.Count}";
        }
        if (example.Rows.Any(r => r.Count != names.Count))
        {
            return "the documented table has rows of another width";
        }
        if (example.Ordered)
        {
            var keyIndexes = sortKeys.Select(k => names.IndexOf(k)).ToList();
            for (var i = 0; i < actual.Rows.Count; i++)
            {
                if (RowMatches(example.Rows[i], actual.Rows[i]))
                {
                    continue;
                }
                if (keyIndexes.Count == 0 || keyIndexes.Contains(-1) || !keyIndexes.All(k => CellMatches(example.Rows[i][k], actual.Rows[i][k])))
                {
                    return $"row {i + 1} is [{Show(actual.Rows[i])}], expected [{string.Join(", ", example.Rows[i])}]";
                }
            }
        }
        var unmatched = actual.Rows.ToList();
        foreach (var expected in example.Rows)
        {
            var match = unmatched.FindIndex(row => RowMatches(expected, row));
            if (match < 0)
            {
                return $"no row matches the documented [{string.Join(", ", expected)}]; rows: {string.Join(" / ", actual.Rows.Take(6).Select(r => "[" + Show(r) + "]"))}";
            }
            unmatched.RemoveAt(match);
        }
        return null;
    }

    private static string Show(object?[] row) => string.Join(", ", row.Select(Text));

    private static string Text(object? v) => v switch
    {
        null => "null",
        JsonNode n => n.ToJsonString(),
        DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static bool RowMatches(List<string> expected, object?[] actual)
    {
        for (var c = 0; c < actual.Length; c++)
        {
            if (!CellMatches(expected[c], actual[c]))
            {
                return false;
            }
        }
        return true;
    }

    public static bool CellMatches(string expected, object? actual)
    {
        var e = expected.Trim();
        var emptyExpected = e.Length == 0 || e == "null" || e == "\"\"";
        switch (actual)
        {
            case null:
                return emptyExpected;
            case string s when s.Length == 0:
                return emptyExpected;
            case JsonNode node:
                return JsonMatches(e, node) || (emptyExpected && node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length == 0);
            case bool b:
                return string.Equals(e, b ? "true" : "false", StringComparison.OrdinalIgnoreCase) || e == (b ? "1" : "0");
            case long or int or double:
                return NumberMatches(e, Convert.ToDouble(actual, CultureInfo.InvariantCulture));
            case DateTime d:
                return TryDateTime(e, out var ed) && ed.Ticks == d.Ticks;
            case TimeSpan t:
                return TryTimeSpan(e, out var et) && et == t;
            case Guid g:
                return Guid.TryParse(e, out var eg) && eg == g;
            default:
                var text = Convert.ToString(actual, CultureInfo.InvariantCulture) ?? "";
                if (Squash(text) == Squash(e))
                {
                    return true;
                }
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && NumberMatches(e, number))
                {
                    return true;
                }
                return (text.StartsWith('{') || text.StartsWith('[')) && JsonMatches(e, JsonNode.Parse(text));
        }
    }

    private static string Squash(string text) => Whitespace().Replace(text.Trim(), " ");

    private static bool NumberMatches(string expected, double actual)
    {
        var e = expected.Replace(",", "", StringComparison.Ordinal);
        if (!double.TryParse(e, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return e switch
            {
                "NaN" => double.IsNaN(actual),
                "Infinity" or "∞" => double.IsPositiveInfinity(actual),
                "-Infinity" or "-∞" => double.IsNegativeInfinity(actual),
                _ => false,
            };
        }
        if (double.IsNaN(value) || double.IsNaN(actual))
        {
            return double.IsNaN(value) && double.IsNaN(actual);
        }
        if (value == actual)
        {
            return true;
        }
        return Math.Abs(value - actual) <= 1e-6 * Math.Max(Math.Abs(value), Math.Abs(actual));
    }

    private static bool TryDateTime(string text, out DateTime value)
    {
        string[] formats = ["yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", "yyyy-MM-ddTHH:mm:ssZ",
            "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mmZ", "yyyy-MM-ddTHH:mm"];
        return DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value);
    }

    private static bool TryTimeSpan(string text, out TimeSpan value) => TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);

    private static bool JsonMatches(string expected, JsonNode? actual)
    {
        var parsed = ParseLenient(expected);
        if (parsed.Ok)
        {
            return NodeMatches(parsed.Node, actual);
        }
        // A dynamic scalar documented without quotes: compare as a cell of its own type.
        return actual is JsonValue value && CellMatches(expected, KeyAbuseContent.Engine.Kql.Storage.Scalars.DynamicScalar(value));
    }

    private static (bool Ok, JsonNode? Node) ParseLenient(string text)
    {
        foreach (var candidate in new[] { text, text.Replace('\'', '"') })
        {
            try
            {
                return (true, JsonNode.Parse(candidate));
            }
            catch (JsonException)
            {
            }
        }
        return (false, null);
    }

    private static bool NodeMatches(JsonNode? expected, JsonNode? actual)
    {
        switch (expected)
        {
            case null:
                return actual is null || (actual is JsonValue v && KeyAbuseContent.Engine.Kql.Storage.Scalars.DynamicScalar(v) is null);
            case JsonArray ea:
                return actual is JsonArray aa && ea.Count == aa.Count && ea.Zip(aa).All(p => NodeMatches(p.First, p.Second));
            case JsonObject eo:
                return actual is JsonObject ao && eo.Count == ao.Count && eo.All(p => ao.TryGetPropertyValue(p.Key, out var av) && NodeMatches(p.Value, av));
            default:
                if (actual is not JsonValue actualValue)
                {
                    return false;
                }
                var expectedText = expected.GetValueKind() == JsonValueKind.String ? expected.GetValue<string>() : expected.ToJsonString();
                var actualScalar = KeyAbuseContent.Engine.Kql.Storage.Scalars.DynamicScalar(actualValue);
                return CellMatches(expectedText, actualScalar is string s && s.Length == 0 ? "" : actualScalar)
                    || (actualScalar is string text && Squash(text) == Squash(expectedText));
        }
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
