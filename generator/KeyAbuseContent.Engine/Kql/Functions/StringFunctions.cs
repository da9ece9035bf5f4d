using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Kql.Execution.Scalar;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Engine.Kql.Functions;

// String functions. Regular expressions use .NET's engine; a constant pattern is compiled once.
internal static partial class ScalarFunctions
{
    private static IEnumerable<ScalarFunction> Strings()
    {
        yield return F("strcat", 1, 64, ResultNaming.None, c => c.Row(KqlType.String, a => string.Concat(a.Select(Scalars.ToKqlString))));
        yield return F("strcat_delim", 3, 65, ResultNaming.None, c => c.Row(KqlType.String, a =>
            string.Join(Scalars.ToKqlString(a[0]), a.Skip(1).Select(Scalars.ToKqlString))));
        yield return F("strcat_array", 2, 2, ResultNaming.None, c => c.Row(KqlType.String, a =>
            a[0] is JsonArray array ? string.Join(Scalars.ToKqlString(a[1]), array.Select(e => Scalars.ToKqlString(e))) : ""));
        yield return F("strlen", 1, 1, ResultNaming.NameAndFirstArgument, c => c.Row(KqlType.Long, a => (long)new StringInfo(Scalars.ToKqlString(a[0])).LengthInTextElements));
        yield return F("tolower", 1, 1, ResultNaming.None, c => c.Row(KqlType.String, a => Scalars.ToKqlString(a[0]).ToLowerInvariant()));
        yield return F("toupper", 1, 1, ResultNaming.None, c => c.Row(KqlType.String, a => Scalars.ToKqlString(a[0]).ToUpperInvariant()));
        yield return F("substring", 2, 3, ResultNaming.None, c => c.Row(KqlType.String, Substring));
        yield return F("split", 2, 3, ResultNaming.FirstArgument, c => c.Row(KqlType.Dynamic, Split));
        yield return F("replace_string", 3, 3, ResultNaming.None, c => c.Row(KqlType.String, a =>
        {
            var (text, lookup, rewrite) = (Scalars.ToKqlString(a[0]), Scalars.ToKqlString(a[1]), Scalars.ToKqlString(a[2]));
            return lookup.Length == 0 ? text : text.Replace(lookup, rewrite, StringComparison.Ordinal);
        }));
        yield return F("replace_regex", 3, 3, ResultNaming.None, c =>
        {
            var regex = ConstantRegex(c, 1);
            return c.Row(KqlType.String, a => (regex ?? Regexes.Get(Scalars.ToKqlString(a[1]))).Replace(Scalars.ToKqlString(a[0]), RewriteGroups(Scalars.ToKqlString(a[2]))));
        });
        yield return F("extract", 3, 4, ResultNaming.None, Extract);
        yield return F("extract_all", 2, 3, ResultNaming.None, ExtractAll);
        yield return F("indexof", 2, 5, ResultNaming.None, c => c.Row(KqlType.Long, IndexOf));
        yield return F("reverse", 1, 1, ResultNaming.None, c => c.Row(KqlType.String, a =>
        {
            var chars = Scalars.ToKqlString(a[0]).ToCharArray();
            Array.Reverse(chars);
            return new string(chars);
        }));
        yield return F("trim", 2, 2, ResultNaming.None, c => Trim(c, "^(?:{0})+|(?:{0})+$"));
        yield return F("trim_start", 2, 2, ResultNaming.None, c => Trim(c, "^(?:{0})+"));
        yield return F("trim_end", 2, 2, ResultNaming.None, c => Trim(c, "(?:{0})+$"));
        yield return F("strrep", 2, 3, ResultNaming.None, c => c.Row(KqlType.String, a =>
        {
            var count = (int)Math.Clamp(Scalars.ToLong(a[1]) ?? 0, 0, 1024);
            return string.Join(a.Length > 2 ? Scalars.ToKqlString(a[2]) : "", Enumerable.Repeat(Scalars.ToKqlString(a[0]), count));
        }));
        yield return F("countof", 2, 3, ResultNaming.None, c => c.Row(KqlType.Long, a =>
        {
            var (text, search) = (Scalars.ToKqlString(a[0]), Scalars.ToKqlString(a[1]));
            if (a.Length > 2 && Scalars.ToKqlString(a[2]) == "regex")
            {
                return (long)Regexes.Get(search).Count(text);
            }
            var count = 0L;
            for (var at = search.Length == 0 ? -1 : text.IndexOf(search, StringComparison.Ordinal); at >= 0; at = text.IndexOf(search, at + 1, StringComparison.Ordinal))
            {
                count++;
            }
            return count;
        }));
        yield return F("strcmp", 2, 2, ResultNaming.None, c => c.Row(KqlType.Long, a => (long)Math.Sign(string.CompareOrdinal(Scalars.ToKqlString(a[0]), Scalars.ToKqlString(a[1])))));
        yield return F("url_encode", 1, 1, ResultNaming.None, c => c.Row(KqlType.String, a => Uri.EscapeDataString(Scalars.ToKqlString(a[0]))));
        yield return F("url_decode", 1, 1, ResultNaming.None, c => c.Row(KqlType.String, a => Uri.UnescapeDataString(Scalars.ToKqlString(a[0]))));
        yield return F("isascii", 1, 1, ResultNaming.None, c => c.Row(KqlType.Bool, a => Scalars.ToKqlString(a[0]).All(char.IsAscii)));
    }

    private static Regex? ConstantRegex(FunctionCall call, int index)
    {
        if (!call.Args[index].IsConstant)
        {
            return null;
        }
        try
        {
            return Regexes.Get(Scalars.ToKqlString(call.Args[index].ConstantValue));
        }
        catch (ArgumentException e)
        {
            throw call.Error($"{call.Name}(): the regular expression is not valid: {e.Message}");
        }
    }

    /// <summary>Kusto's rewrite uses \1 for groups; .NET uses $1.</summary>
    private static string RewriteGroups(string rewrite) => Regex.Replace(rewrite.Replace("$", "$$", StringComparison.Ordinal), @"\\(\d)", "$${$1}");

    private static object? Substring(object?[] a)
    {
        var text = Scalars.ToKqlString(a[0]);
        if (Scalars.ToLong(a[1]) is not { } start)
        {
            return "";
        }
        start = Math.Clamp(start, 0, text.Length);
        var length = a.Length > 2 ? Scalars.ToLong(a[2]) ?? text.Length : text.Length;
        length = Math.Clamp(length, 0, text.Length - start);
        return text.Substring((int)start, (int)length);
    }

    /// <summary>split(text, delimiter[, index]): the pieces as an array of strings; with an index, an array of that piece.</summary>
    private static object? Split(object?[] a)
    {
        var text = Scalars.ToKqlString(a[0]);
        var delimiter = Scalars.ToKqlString(a[1]);
        var parts = delimiter.Length == 0 ? [text] : text.Split(delimiter);
        if (a.Length > 2)
        {
            if (Scalars.ToLong(a[2]) is not { } index || index < 0 || index >= parts.Length)
            {
                return new JsonArray();
            }
            return new JsonArray(JsonValue.Create(parts[index]));
        }
        return new JsonArray([.. parts.Select(p => (JsonNode?)JsonValue.Create(p))]);
    }

    /// <summary>extract(regex, group, text[, typeof(T)]): the group of the first match; "" (or null when typed) without a match.</summary>
    private static ScalarNode Extract(FunctionCall call)
    {
        var regex = ConstantRegex(call, 0);
        var type = KqlType.String;
        if (call.Args.Length == 4)
        {
            if (!call.Args[3].IsConstant || call.Args[3].ConstantValue is not string t || !t.StartsWith("typeof:", StringComparison.Ordinal) || !KqlTypes.TryParse(t[7..], out type))
            {
                throw call.Error("extract(): the fourth argument is typeof(type)");
            }
        }
        return call.Row(type, a =>
        {
            var r = regex ?? Regexes.Get(Scalars.ToKqlString(a[0]));
            if (Scalars.ToLong(a[1]) is not { } group)
            {
                return null;
            }
            var match = r.Match(Scalars.ToKqlString(a[2]));
            if (!match.Success || group < 0 || group >= match.Groups.Count || !match.Groups[(int)group].Success)
            {
                return type == KqlType.String ? "" : null;
            }
            var value = match.Groups[(int)group].Value;
            return type == KqlType.String ? value : ParseTo(value, type);
        });
    }

    private static object? ParseTo(string text, KqlType type) => type switch
    {
        KqlType.Long => Scalars.ToLong(text),
        KqlType.Int => Scalars.ToInt(text),
        KqlType.Real => Scalars.ToReal(text),
        KqlType.Bool => Scalars.ToBool(text),
        KqlType.DateTime => Scalars.ToDateTime(text),
        KqlType.TimeSpan => Scalars.ToTimeSpan(text),
        KqlType.Guid => Scalars.ToGuid(text),
        KqlType.Dynamic => DynamicValues.Parse(text),
        _ => text,
    };

    /// <summary>extract_all(regex, [groups,] text): every match, as an array of its groups (or of the match when there are none).</summary>
    private static ScalarNode ExtractAll(FunctionCall call)
    {
        var regex = ConstantRegex(call, 0);
        return call.Row(KqlType.Dynamic, a =>
        {
            var r = regex ?? Regexes.Get(Scalars.ToKqlString(a[0]));
            var text = Scalars.ToKqlString(a[^1]);
            var wanted = a.Length == 3 && a[1] is JsonArray groups ? groups.Select(g => (int)(Scalars.ToLong(g) ?? 0)).ToArray() : null;
            var matches = r.Matches(text);
            if (matches.Count == 0)
            {
                return null;
            }
            var result = new JsonArray();
            foreach (Match m in matches)
            {
                var numbers = wanted ?? (m.Groups.Count > 1 ? [.. Enumerable.Range(1, m.Groups.Count - 1)] : [0]);
                if (numbers.Length == 1 && wanted is null)
                {
                    result.Add(JsonValue.Create(m.Groups[numbers[0]].Value));
                }
                else
                {
                    result.Add(new JsonArray([.. numbers.Select(g => (JsonNode?)JsonValue.Create(m.Groups[g].Value))]));
                }
            }
            return result;
        });
    }

    private static object? IndexOf(object?[] a)
    {
        var text = Scalars.ToKqlString(a[0]);
        var lookup = Scalars.ToKqlString(a[1]);
        var start = a.Length > 2 ? Scalars.ToLong(a[2]) ?? 0 : 0;
        var length = a.Length > 3 ? Scalars.ToLong(a[3]) ?? -1 : -1;
        var occurrence = a.Length > 4 ? Scalars.ToLong(a[4]) ?? 1 : 1;
        if (start < 0)
        {
            start = Math.Max(0, text.Length + start);
        }
        if (start > text.Length || occurrence < 1)
        {
            return null;
        }
        var end = length < 0 ? text.Length : (int)Math.Min(text.Length, start + length);
        var at = (int)start - 1;
        for (var k = 0; k < occurrence; k++)
        {
            at = text.IndexOf(lookup, at + 1, StringComparison.Ordinal);
            if (at < 0 || at + lookup.Length > end)
            {
                return -1L;
            }
        }
        return (long)at;
    }

    private static ScalarNode Trim(FunctionCall call, string shape)
    {
        var constant = call.Args[0].IsConstant ? Regexes.Get(string.Format(CultureInfo.InvariantCulture, shape, Scalars.ToKqlString(call.Args[0].ConstantValue))) : null;
        return call.Row(KqlType.String, a =>
        {
            var regex = constant ?? Regexes.Get(string.Format(CultureInfo.InvariantCulture, shape, Scalars.ToKqlString(a[0])));
            return regex.Replace(Scalars.ToKqlString(a[1]), "");
        });
    }
}
