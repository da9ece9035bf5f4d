using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsvHelper;
using CsvHelper.Configuration;

namespace KeyAbuseContent.Engine.Data;

/// <summary>Which engine a table is loaded for: its type names and how lists are held.</summary>
public enum TableDialect
{
    /// <summary>KQL: string, long, real, bool, datetime, timespan, dynamic; lists are dynamic arrays; strings never null.</summary>
    Kql,

    /// <summary>ES|QL: keyword, long, double, boolean, date, ip; lists are multi-values; missing values null.</summary>
    Esql,
}

/// <summary>A table file that cannot be read as a table, with the line and why.</summary>
public sealed class TableFileException(string message) : Exception(message);

/// <summary>
/// Reads the tables of <c>keyabuse query --table NAME=FILE</c>: CSV with <c>column:type</c> headers (or types
/// inferred), or JSON Lines whose values keep their JSON types (ISO 8601 date-time strings become
/// date-times, arrays multi-values or dynamic arrays); a <c>&lt;stem&gt;.types.json</c> beside the file maps
/// columns to type names and overrides inference.
/// </summary>
public static class TableFiles
{
    private enum Kind
    {
        Bool,
        Long,
        Real,
        DateTime,
        TimeSpan,
        String,
        Ip,
        Dynamic,
    }

    public static DataTable Load(string name, string path, TableDialect dialect)
    {
        if (!File.Exists(path))
        {
            throw new TableFileException($"{path}: no such file");
        }
        var overrides = Overrides(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".csv" => Csv(name, path, dialect, overrides),
            ".jsonl" or ".ndjson" or ".json" => JsonLines(name, path, dialect, overrides),
            var ext => throw new TableFileException($"{path}: '{ext}' is neither .csv nor .jsonl"),
        };
    }

    private static Dictionary<string, Kind> Overrides(string path)
    {
        var typesPath = Path.Combine(Path.GetDirectoryName(path) ?? ".", Path.GetFileNameWithoutExtension(path) + ".types.json");
        var result = new Dictionary<string, Kind>(StringComparer.Ordinal);
        if (!File.Exists(typesPath))
        {
            return result;
        }
        JsonObject? map;
        try
        {
            map = JsonNode.Parse(File.ReadAllText(typesPath)) as JsonObject;
        }
        catch (JsonException e)
        {
            throw new TableFileException($"{typesPath}: not JSON: {e.Message}");
        }
        foreach (var (column, type) in map ?? throw new TableFileException($"{typesPath}: a mapping of column to type name"))
        {
            var typeName = type?.GetValue<string>() ?? "";
            result[column] = KindOf(typeName) ?? throw new TableFileException($"{typesPath}: '{typeName}' (column {column}) is not a KQL or Elasticsearch type name");
        }
        return result;
    }

    /// <summary>A KQL or Elasticsearch type name as one of the loader's kinds.</summary>
    private static Kind? KindOf(string type) => type.ToLowerInvariant() switch
    {
        "bool" or "boolean" => Kind.Bool,
        "int" or "long" or "integer" or "short" or "byte" or "unsigned_long" => Kind.Long,
        "real" or "double" or "float" or "half_float" or "scaled_float" or "decimal" => Kind.Real,
        "datetime" or "date" or "date_nanos" => Kind.DateTime,
        "timespan" or "time" => Kind.TimeSpan,
        "string" or "keyword" or "text" or "wildcard" or "constant_keyword" or "guid" => Kind.String,
        "ip" => Kind.Ip,
        "dynamic" or "object" or "flattened" => Kind.Dynamic,
        _ => null,
    };

    private static string TypeName(Kind kind, TableDialect dialect) => (kind, dialect) switch
    {
        (Kind.Bool, TableDialect.Kql) => "bool",
        (Kind.Bool, _) => "boolean",
        (Kind.Long, _) => "long",
        (Kind.Real, TableDialect.Kql) => "real",
        (Kind.Real, _) => "double",
        (Kind.DateTime, TableDialect.Kql) => "datetime",
        (Kind.DateTime, _) => "date",
        (Kind.TimeSpan, TableDialect.Kql) => "timespan",
        (Kind.TimeSpan, _) => "time_duration",
        (Kind.Ip, TableDialect.Esql) => "ip",
        (Kind.Dynamic, TableDialect.Kql) => "dynamic",
        (Kind.String, TableDialect.Kql) or (Kind.Ip, TableDialect.Kql) => "string",
        _ => "keyword",
    };

    private static DataTable Csv(string name, string path, TableDialect dialect, Dictionary<string, Kind> overrides)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = true, BadDataFound = null };
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, config);
        if (!csv.Read() || !csv.ReadHeader())
        {
            throw new TableFileException($"{path}: the file has no header line");
        }
        var header = csv.HeaderRecord!;
        var names = new string[header.Length];
        var kinds = new Kind?[header.Length];
        for (var i = 0; i < header.Length; i++)
        {
            var colon = header[i].LastIndexOf(':');
            if (colon > 0)
            {
                names[i] = header[i][..colon];
                kinds[i] = KindOf(header[i][(colon + 1)..]) ?? throw new TableFileException($"{path}:1: '{header[i][(colon + 1)..]}' (column {names[i]}) is not a KQL or Elasticsearch type name");
            }
            else
            {
                names[i] = header[i];
            }
            if (overrides.TryGetValue(names[i], out var k))
            {
                kinds[i] = k;
            }
        }
        var raw = new List<string?[]>();
        while (csv.Read())
        {
            var record = new string?[header.Length];
            for (var i = 0; i < header.Length; i++)
            {
                record[i] = csv.TryGetField<string>(i, out var v) ? v : null;
            }
            raw.Add(record);
        }
        for (var i = 0; i < header.Length; i++)
        {
            kinds[i] ??= Infer(raw.Select(r => r[i]));
        }
        var rows = new List<object?[]>(raw.Count);
        for (var r = 0; r < raw.Count; r++)
        {
            var row = new object?[header.Length];
            for (var i = 0; i < header.Length; i++)
            {
                row[i] = ConvertText(raw[r][i], kinds[i]!.Value, dialect, $"{path}:{r + 2}: column {names[i]}");
            }
            rows.Add(row);
        }
        return new DataTable(name, [.. names.Select((n, i) => new ColumnSchema(n, TypeName(kinds[i]!.Value, dialect)))], rows);
    }

    /// <summary>The narrowest kind every non-empty cell of a CSV column reads as.</summary>
    private static Kind Infer(IEnumerable<string?> cells)
    {
        var candidates = new List<Kind> { Kind.Long, Kind.Real, Kind.Bool, Kind.DateTime };
        foreach (var cell in cells)
        {
            if (string.IsNullOrEmpty(cell))
            {
                continue;
            }
            candidates.RemoveAll(k => !Reads(cell, k));
            if (candidates.Count == 0)
            {
                return Kind.String;
            }
        }
        return candidates.Count == 4 ? Kind.String : candidates[0];
    }

    private static bool Reads(string text, Kind kind) => kind switch
    {
        Kind.Long => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
        Kind.Real => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
        Kind.Bool => text is "true" or "false" or "True" or "False",
        Kind.DateTime => IsIsoDateTime(text),
        _ => true,
    };

    private static bool IsIsoDateTime(string text) =>
        text.Length >= 10 && text[4] == '-' && text[7] == '-' && char.IsAsciiDigit(text[0])
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out _);

    private static object? ConvertText(string? text, Kind kind, TableDialect dialect, string where)
    {
        if (string.IsNullOrEmpty(text))
        {
            return kind is Kind.String or Kind.Ip && dialect == TableDialect.Kql ? "" : null;
        }
        try
        {
            return kind switch
            {
                Kind.Bool => bool.Parse(text),
                Kind.Long => long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
                Kind.Real => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
                Kind.DateTime => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal).UtcDateTime,
                Kind.TimeSpan => TimeSpan.Parse(text, CultureInfo.InvariantCulture),
                Kind.Dynamic => JsonNode.Parse(text),
                _ => text,
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException or JsonException)
        {
            throw new TableFileException($"{where}: '{text}' is not a {kind.ToString().ToLowerInvariant()}");
        }
    }

    private static DataTable JsonLines(string name, string path, TableDialect dialect, Dictionary<string, Kind> overrides)
    {
        var objects = new List<JsonObject>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            try
            {
                objects.Add(JsonNode.Parse(line) as JsonObject ?? throw new TableFileException($"{path}:{number}: a line is a JSON object"));
            }
            catch (JsonException e)
            {
                throw new TableFileException($"{path}:{number}: not JSON: {e.Message}");
            }
        }
        // Columns in order of first appearance.
        var names = new List<string>();
        foreach (var o in objects)
        {
            foreach (var (key, _) in o)
            {
                if (!names.Contains(key))
                {
                    names.Add(key);
                }
            }
        }
        var kinds = names.Select(n => overrides.TryGetValue(n, out var k) ? k : InferJson(objects.Select(o => o[n]))).ToList();
        var rows = objects.Select((o, r) => names.Select((n, i) => ConvertJson(o[n], kinds[i], dialect, $"{path}:{r + 1}: column {n}")).ToArray()).ToList();
        return new DataTable(name, [.. names.Select((n, i) => new ColumnSchema(n, TypeName(kinds[i], dialect)))], rows);
    }

    private static Kind InferJson(IEnumerable<JsonNode?> values)
    {
        Kind? kind = null;
        foreach (var v in values)
        {
            if (v is null)
            {
                continue;
            }
            var k = v switch
            {
                JsonArray a => a.Select(x => x is null ? (Kind?)null : KindOfValue(x)).FirstOrDefault(x => x is not null) ?? Kind.String,
                JsonObject => Kind.Dynamic,
                _ => KindOfValue(v),
            };
            kind = kind switch
            {
                null => k,
                var same when same == k => k,
                Kind.Long when k == Kind.Real => Kind.Real,
                Kind.Real when k == Kind.Long => Kind.Real,
                _ => Kind.Dynamic,
            };
        }
        return kind ?? Kind.String;
    }

    private static Kind KindOfValue(JsonNode v) => v.GetValueKind() switch
    {
        JsonValueKind.True or JsonValueKind.False => Kind.Bool,
        JsonValueKind.Number => v.GetValue<JsonElement>().TryGetInt64(out _) ? Kind.Long : Kind.Real,
        JsonValueKind.String => IsIsoDateTime(v.GetValue<string>()) ? Kind.DateTime : Kind.String,
        _ => Kind.Dynamic,
    };

    private static object? ConvertJson(JsonNode? value, Kind kind, TableDialect dialect, string where)
    {
        if (value is null)
        {
            return kind is Kind.String or Kind.Ip && dialect == TableDialect.Kql ? "" : null;
        }
        if (kind == Kind.Dynamic || (value is JsonArray && dialect == TableDialect.Kql))
        {
            return dialect == TableDialect.Kql ? value.DeepClone() : value.ToJsonString();
        }
        if (value is JsonArray array)
        {
            var items = array.Select(x => ConvertJson(x, kind, dialect, where)).ToImmutableArray();
            return items.Length == 1 ? items[0] : items.IsEmpty ? null : items;
        }
        if (value is JsonObject)
        {
            return value.ToJsonString();
        }
        var element = value.GetValue<JsonElement>();
        try
        {
            return kind switch
            {
                Kind.Bool => element.GetBoolean(),
                Kind.Long => element.ValueKind == JsonValueKind.String ? long.Parse(element.GetString()!, CultureInfo.InvariantCulture) : element.GetInt64(),
                Kind.Real => element.ValueKind == JsonValueKind.String ? double.Parse(element.GetString()!, CultureInfo.InvariantCulture) : element.GetDouble(),
                Kind.DateTime => element.ValueKind == JsonValueKind.Number
                    ? DateTime.UnixEpoch.AddMilliseconds(element.GetInt64())
                    : DateTimeOffset.Parse(element.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal).UtcDateTime,
                Kind.TimeSpan => TimeSpan.Parse(element.GetString()!, CultureInfo.InvariantCulture),
                _ => element.ValueKind == JsonValueKind.String ? element.GetString() : element.GetRawText(),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw new TableFileException($"{where}: {element.GetRawText()} is not a {kind.ToString().ToLowerInvariant()}");
        }
    }
}
