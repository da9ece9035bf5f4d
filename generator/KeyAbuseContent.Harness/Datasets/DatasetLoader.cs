using System.Collections.Immutable;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Yaml;

namespace KeyAbuseContent.Harness.Datasets;

/// <summary>
/// Reads a dataset folder (DESIGN.md): <c>events.jsonl[.gz]</c>, <c>inventory.yaml</c>, <c>labels.json</c>,
/// <c>geo.csv</c>, and the vendor logs of <c>raw/</c> (<see cref="RawRecordReader"/>). A line that is not valid is reported with its line number and reason and skipped;
/// duplicate request ids are dropped. Events keep the country and ASN they carry: <c>geo.csv</c> is loaded as the
/// address ranges each platform enriches from (<see cref="Tables.GeoEnrichment"/>), as it would. A key id shaped like a provider secret is refused: datasets carry ids, never keys.
/// </summary>
public static partial class DatasetLoader
{
    public static Dataset Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"dataset folder '{folder}' does not exist");
        }
        var problems = ImmutableArray.CreateBuilder<DatasetProblem>();
        var geo = LoadGeo(folder, problems);
        var events = LoadEvents(folder, problems);
        var inventory = LoadInventory(folder, problems);
        var labels = LoadLabels(folder, problems);
        var logs = LoadLogs(folder, problems);
        var raw = RawRecordReader.Load(folder, problems);
        return new Dataset(folder, events, inventory, labels, geo, problems.ToImmutable()) { Logs = logs, Raw = raw };
    }

    /// <summary>Reads <c>logs.jsonl</c>: one JSON object a line with <c>time</c> (required), <c>host</c>, <c>source</c>, <c>pipeline</c>, <c>repository</c>, <c>message</c>.</summary>
    private static ImmutableArray<LogLine> LoadLogs(string folder, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var path = Path.Combine(folder, "logs.jsonl");
        if (!File.Exists(path))
        {
            return [];
        }
        var display = PathDisplay.Of(path);
        var lines = new List<LogLine>();
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
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException("a log line is a JSON object");
                }
                var time = Time(root) ?? throw new FormatException("'time' is required (RFC 3339 or Unix milliseconds)");
                lines.Add(new LogLine(time, Str(root, "host"), Str(root, "source"), Str(root, "pipeline"), Str(root, "repository"), Str(root, "message")));
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                problems.Add(new DatasetProblem(display, number, e.Message));
            }
        }
        return [.. lines.OrderBy(l => l.Time)];
    }

    private static string Display(string folder, string file) => PathDisplay.Of(Path.Combine(folder, file));

    private static ImmutableArray<ActivityEvent> LoadEvents(string folder, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var plain = Path.Combine(folder, "events.jsonl");
        var gzip = plain + ".gz";
        string? path = File.Exists(plain) ? plain : File.Exists(gzip) ? gzip : null;
        if (path is null)
        {
            return [];
        }
        var display = PathDisplay.Of(path);
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);
        var events = new List<ActivityEvent>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pool = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var (ev, error) = ParseEvent(line);
            if (error is not null)
            {
                problems.Add(new DatasetProblem(display, number, error));
                continue;
            }
            if (ev!.RequestId is { } id && !seen.Add(id))
            {
                problems.Add(new DatasetProblem(display, number, $"duplicate request_id '{id}' dropped"));
                continue;
            }
            events.Add(Pooled(ev, pool));
        }
        // A stable sort keeps equal times in file order.
        return [.. events.OrderBy(e => e.Time)];
    }

    /// <summary>
    /// The event with its repeated strings (key, service, model, address, ...) shared with earlier events: a million
    /// events hold a few thousand distinct values, not ten million copies. The request id is unique and kept as is.
    /// </summary>
    private static ActivityEvent Pooled(ActivityEvent ev, HashSet<string> pool)
    {
        string? Get(string? value)
        {
            if (value is null)
            {
                return null;
            }
            if (pool.TryGetValue(value, out var shared))
            {
                return shared;
            }
            pool.Add(value);
            return value;
        }
        return ev with
        {
            KeyId = Get(ev.KeyId)!,
            Service = Get(ev.Service),
            Env = Get(ev.Env),
            ClientIp = Get(ev.ClientIp),
            Country = Get(ev.Country),
            UserAgent = Get(ev.UserAgent),
            Provider = Get(ev.Provider),
            Model = Get(ev.Model),
            Operation = Get(ev.Operation),
        };
    }

    /// <summary>Parses one event line; returns the reason when it is not a valid event.</summary>
    public static (ActivityEvent? Event, string? Error) ParseEvent(string line)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            return (null, "not JSON: " + e.Message);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, "an event is a JSON object");
            }
            try
            {
                var time = Time(root) ?? throw new FormatException("'time' is required (RFC 3339 or Unix milliseconds)");
                var key = Str(root, "key_id");
                if (string.IsNullOrEmpty(key))
                {
                    throw new FormatException("'key_id' is required");
                }
                if (LooksLikeSecret(key))
                {
                    throw new FormatException("'key_id' is shaped like a provider secret; datasets carry key ids or fingerprints, never keys");
                }
                var ip = Str(root, "client_ip");
                if (ip is not null && !IPAddress.TryParse(ip, out _))
                {
                    throw new FormatException($"'client_ip' '{ip}' is not an address");
                }
                return (new ActivityEvent(
                    time, key, Str(root, "service"), Str(root, "env"), ip, Str(root, "country"), Long(root, "asn"),
                    Str(root, "user_agent"), Str(root, "provider"), Str(root, "model"), Str(root, "operation"),
                    Long(root, "input_tokens") ?? 0, Long(root, "output_tokens") ?? 0, Long(root, "status"),
                    Double(root, "latency_ms"), Double(root, "cost_usd"), Str(root, "request_id")), null);
            }
            catch (FormatException e)
            {
                return (null, e.Message);
            }
        }
    }

    [GeneratedRegex(@"^(sk-(proj|svcacct|admin|ant|or)-|sk-[A-Za-z0-9]{20}T3BlbkFJ|AIza[\w-]{35}$|hf_[A-Za-z]{34}$|gsk_[A-Za-z0-9]{52}$|xai-[A-Za-z0-9_]{80}$)", RegexOptions.CultureInvariant)]
    private static partial Regex SecretShape();

    /// <summary>Whether a value looks like a provider key (KEY-FORMATS.md prefixes and shapes).</summary>
    public static bool LooksLikeSecret(string value) => SecretShape().IsMatch(value);

    private static DateTime? Time(JsonElement root)
    {
        if (!root.TryGetProperty("time", out var t))
        {
            return null;
        }
        switch (t.ValueKind)
        {
            case JsonValueKind.Number when t.TryGetInt64(out var ms):
                return DateTime.UnixEpoch.AddMilliseconds(ms);
            case JsonValueKind.String:
                var text = t.GetString()!;
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                    && (text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9))
                {
                    return parsed.UtcDateTime;
                }
                throw new FormatException($"'time' '{text}' is not an RFC 3339 date-time with a zone (Z or an offset)");
            default:
                throw new FormatException("'time' is a string (RFC 3339) or a number (Unix milliseconds)");
        }
    }

    private static string? Str(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new FormatException($"'{name}' is a string");
    }

    private static long? Long(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : throw new FormatException($"'{name}' is an integer");
    }

    private static double? Double(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw new FormatException($"'{name}' is a number");
    }

    private static ImmutableArray<GeoRange> LoadGeo(string folder, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var path = Path.Combine(folder, "geo.csv");
        if (!File.Exists(path))
        {
            return [];
        }
        var display = Display(folder, "geo.csv");
        var ranges = ImmutableArray.CreateBuilder<GeoRange>();
        var spans = new List<(UInt128 First, UInt128 Last, bool V6, int Line, GeoRange Range)>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (number == 1 || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var parts = line.Split(',');
            var slash = parts[0].IndexOf('/', StringComparison.Ordinal);
            if (parts.Length != 3 || slash < 0 || !IPAddress.TryParse(parts[0][..slash], out var network)
                || !int.TryParse(parts[0][(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
                || prefix > (network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
                || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var asn))
            {
                problems.Add(new DatasetProblem(display, number, "expected network,country,asn such as 203.0.113.0/24,US,64500"));
                continue;
            }
            var range = new GeoRange(network, prefix, parts[1], asn);
            var (first, last) = Bounds(range);
            spans.Add((first, last, network.AddressFamily == AddressFamily.InterNetworkV6, number, range));
        }
        // Ranges must not overlap: Elastic's enrich policy takes one match an address, Sentinel's lookup every one.
        var kept = new HashSet<int>();
        (UInt128 Last, bool V6, int Line)? previous = null;
        foreach (var span in spans.OrderBy(s => s.V6).ThenBy(s => s.First).ThenBy(s => s.Line))
        {
            if (previous is { } p && p.V6 == span.V6 && span.First <= p.Last)
            {
                problems.Add(new DatasetProblem(display, span.Line, $"{Cidr(span.Range)} overlaps the range of line {p.Line}; ranges must not overlap"));
                continue;
            }
            kept.Add(span.Line);
            previous = (span.Last, span.V6, span.Line);
        }
        foreach (var span in spans.Where(s => kept.Contains(s.Line)))
        {
            ranges.Add(span.Range);
        }
        return ranges.ToImmutable();
    }

    private static string Cidr(GeoRange range) => $"{range.Network}/{range.PrefixLength}";

    /// <summary>The first and last address of a range, as numbers.</summary>
    private static (UInt128 First, UInt128 Last) Bounds(GeoRange range)
    {
        UInt128 value = 0;
        foreach (var b in range.Network.GetAddressBytes())
        {
            value = (value << 8) | b;
        }
        var bits = range.Network.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        var host = range.PrefixLength >= bits ? UInt128.Zero : (UInt128.One << (bits - range.PrefixLength)) - 1;
        return (value & ~host, (value & ~host) | host);
    }

    private static ImmutableArray<InventoryKey> LoadInventory(string folder, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var path = Path.Combine(folder, "inventory.yaml");
        if (!File.Exists(path))
        {
            return [];
        }
        var display = Display(folder, "inventory.yaml");
        var diagnostics = new DiagnosticBag();
        var root = YamlDocumentReader.Read(display, File.ReadAllText(path), diagnostics);
        foreach (var d in diagnostics.Items)
        {
            problems.Add(new DatasetProblem(display, d.Position.Line, d.Message));
        }
        if (root is not YamlMapping map || map["keys"] is not YamlSequence keys)
        {
            if (root is not null)
            {
                problems.Add(new DatasetProblem(display, root.Start.Line, "the inventory is a mapping with a 'keys' list"));
            }
            return [];
        }
        var services = ServiceTuning(map, display, problems);
        var result = ImmutableArray.CreateBuilder<InventoryKey>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in keys.Items)
        {
            if (item is not YamlMapping k || k["id"] is not YamlScalar { Type: ScalarType.String } id || id.Text.Length == 0)
            {
                problems.Add(new DatasetProblem(display, item.Start.Line, "each key has an id"));
                continue;
            }
            if (LooksLikeSecret(id.Text))
            {
                problems.Add(new DatasetProblem(display, id.Start.Line, "the key id is shaped like a provider secret; the inventory holds ids, never keys"));
                continue;
            }
            if (!ids.Add(id.Text))
            {
                problems.Add(new DatasetProblem(display, id.Start.Line, $"key '{id.Text}' is listed twice"));
                continue;
            }
            try
            {
                var service = Text(k, "service");
                var own = Tuning(k["tuning"]);
                var inherited = service is not null && services.TryGetValue(service, out var t) ? t : default;
                result.Add(new InventoryKey(
                    id.Text, Text(k, "provider"), Text(k, "owner"), Text(k, "team"), service, Text(k, "env"),
                    Oncall(k), Date(k, "created"), Date(k, "expires"), Date(k, "rotated"), Date(k, "last_used"),
                    List(k, "models"), List(k, "operations"), List(k, "countries"), List(k, "cidrs"))
                {
                    FloorScale = own.FloorScale ?? inherited.FloorScale,
                    MinRatio = own.MinRatio ?? inherited.MinRatio,
                });
            }
            catch (FormatException e)
            {
                problems.Add(new DatasetProblem(display, item.Start.Line, $"key '{id.Text}': {e.Message}"));
            }
        }
        return result.ToImmutable();
    }

    /// <summary>The <c>services</c> list: each service's <c>tuning</c>, which its keys inherit unless they carry their own.</summary>
    private static Dictionary<string, (double? FloorScale, double? MinRatio)> ServiceTuning(YamlMapping root, string display, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var result = new Dictionary<string, (double?, double?)>(StringComparer.Ordinal);
        if (root["services"] is null)
        {
            return result;
        }
        if (root["services"] is not YamlSequence services)
        {
            problems.Add(new DatasetProblem(display, root["services"]!.Start.Line, "'services' is a list of services with a name and a tuning"));
            return result;
        }
        foreach (var item in services.Items)
        {
            if (item is not YamlMapping s || s["name"] is not YamlScalar { Type: ScalarType.String } name || name.Text.Length == 0)
            {
                problems.Add(new DatasetProblem(display, item.Start.Line, "each service has a name"));
                continue;
            }
            try
            {
                result[name.Text] = Tuning(s["tuning"]);
            }
            catch (FormatException e)
            {
                problems.Add(new DatasetProblem(display, item.Start.Line, $"service '{name.Text}': {e.Message}"));
            }
        }
        return result;
    }

    /// <summary>A <c>tuning</c> mapping: <c>floor_scale</c> (above 0) and <c>min_ratio</c> (0 or more), each optional.</summary>
    private static (double? FloorScale, double? MinRatio) Tuning(YamlNode? node)
    {
        if (node is null or YamlScalar { Type: ScalarType.Null })
        {
            return default;
        }
        if (node is not YamlMapping m)
        {
            throw new FormatException("'tuning' is a mapping of floor_scale and min_ratio");
        }
        foreach (var e in m.Entries.Where(e => e.Key.Text is not ("floor_scale" or "min_ratio")))
        {
            throw new FormatException($"tuning: unknown setting '{e.Key.Text}' (floor_scale, min_ratio)");
        }
        double? Number(string name, double least)
        {
            if (m[name] is not YamlScalar v)
            {
                return null;
            }
            if (!double.TryParse(v.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || double.IsNaN(d) || double.IsInfinity(d) || d < least || (least > 0 && d == 0))
            {
                throw new FormatException($"tuning: {name} '{v.Text}' is not a number {(least > 0 ? "above 0" : "of 0 or more")}");
            }
            return d;
        }
        return (Number("floor_scale", double.Epsilon), Number("min_ratio", 0));
    }

    private static string? Text(YamlMapping k, string name) => k[name] switch
    {
        null or YamlScalar { Type: ScalarType.Null } => null,
        YamlScalar s => s.Text,
        _ => throw new FormatException($"'{name}' is a string"),
    };

    /// <summary>The on-call route name; a mapping of routes (slack/pagerduty/webhook) keeps only their names.</summary>
    private static string? Oncall(YamlMapping k) => k["oncall"] switch
    {
        null => null,
        YamlScalar s => s.Text,
        YamlMapping m => string.Join(";", m.Entries.Select(e => $"{e.Key.Text}:{(e.Value as YamlScalar)?.Text}")),
        _ => throw new FormatException("'oncall' is a route name"),
    };

    private static DateTime? Date(YamlMapping k, string name)
    {
        var text = Text(k, name);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d))
        {
            return d.UtcDateTime;
        }
        throw new FormatException($"'{name}' '{text}' is not a date");
    }

    private static ImmutableArray<string> List(YamlMapping k, string name) => k[name] switch
    {
        null or YamlScalar { Type: ScalarType.Null } => [],
        YamlSequence s => [.. s.Items.Select(i => i is YamlScalar v ? v.Text : throw new FormatException($"'{name}' lists strings"))],
        _ => throw new FormatException($"'{name}' is a list"),
    };

    private static ImmutableArray<AttackLabel> LoadLabels(string folder, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var path = Path.Combine(folder, "labels.json");
        if (!File.Exists(path))
        {
            return [];
        }
        var display = Display(folder, "labels.json");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var labels = ImmutableArray.CreateBuilder<AttackLabel>();
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                var start = DateTimeOffset.Parse(item.GetProperty("start").GetString()!, CultureInfo.InvariantCulture).UtcDateTime;
                var end = DateTimeOffset.Parse(item.GetProperty("end").GetString()!, CultureInfo.InvariantCulture).UtcDateTime;
                var addresses = item.TryGetProperty("addresses", out var list)
                    ? [.. list.EnumerateArray().Select(a => a.GetString() ?? throw new FormatException("'addresses' lists strings"))]
                    : ImmutableArray<string>.Empty;
                labels.Add(new AttackLabel(item.GetProperty("scenario").GetString()!, item.GetProperty("key_id").GetString()!, start, end) { Addresses = addresses });
            }
            return labels.ToImmutable();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            problems.Add(new DatasetProblem(display, 0, "labels.json is a list of {scenario, key_id, start, end[, addresses]}: " + e.Message));
            return [];
        }
    }
}
