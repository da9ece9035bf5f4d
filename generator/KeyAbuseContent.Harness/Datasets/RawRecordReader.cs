using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Harness.Datasets;

/// <summary>One record of a vendor log (<c>raw/&lt;source&gt;.jsonl[.gz]</c>): its source, where it was read, its JSON and time.</summary>
public sealed record RawRecord(RawSource Source, string File, int Line, string Text, JsonObject Json, DateTime Time);

/// <summary>
/// Reads a dataset's <c>raw/</c> folder: one file a source, JSON Lines, optionally gzip. Each record is checked
/// against its source's contract (a JSON object, its time, its required fields and their kinds, its addresses);
/// a record that fails is reported with file, line and reason and skipped, and so are unknown files and folders
/// and the rest of a truncated gzip file. Nothing here stops the other records or sources from loading.
/// </summary>
public static class RawRecordReader
{
    public static ImmutableArray<RawRecord> Load(string folder, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var dir = Path.Combine(folder, "raw");
        if (!Directory.Exists(dir))
        {
            return [];
        }
        var records = new List<RawRecord>();
        var known = string.Join(", ", RawSources.Files);
        foreach (var sub in Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
        {
            problems.Add(new DatasetProblem(PathDisplay.Of(sub), 0, $"unknown source folder: raw/ holds one file a source, <source>.jsonl or <source>.jsonl.gz ({known})"));
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
        {
            var display = PathDisplay.Of(path);
            var name = Path.GetFileName(path);
            var stem = name.EndsWith(".jsonl.gz", StringComparison.Ordinal) ? name[..^".jsonl.gz".Length]
                : name.EndsWith(".jsonl", StringComparison.Ordinal) ? name[..^".jsonl".Length] : null;
            var tables = stem is null ? [] : RawSources.InFile(stem);
            if (tables.IsEmpty)
            {
                problems.Add(new DatasetProblem(display, 0, $"unknown source file: expected <source>.jsonl or <source>.jsonl.gz with a source of {known}"));
                continue;
            }
            if (!seen.Add(stem!))
            {
                problems.Add(new DatasetProblem(display, 0, $"source {stem} has both a .jsonl and a .jsonl.gz file; only the first is read"));
                continue;
            }
            ReadFile(path, display, tables, records, problems);
        }
        return [.. records.OrderBy(r => r.Time)];
    }

    private static void ReadFile(string path, string display, ImmutableArray<RawSource> tables, List<RawRecord> records, ImmutableArray<DatasetProblem>.Builder problems)
    {
        var source = tables[0];
        var gzip = path.EndsWith(".gz", StringComparison.Ordinal);
        using var file = File.OpenRead(path);
        var expected = gzip ? GzipSize(file) : null;
        using var counting = new CountingStream(gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file);
        using var reader = new StreamReader(counting);
        var number = 0;
        try
        {
            while (reader.ReadLine() is { } line)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }
                foreach (var (text, splitError) in source.Shape == RawRecordShape.OtlpSpans ? OtlpSpans.Split(line) : [(line, null)])
                {
                    var (record, error) = splitError is null ? Parse(tables, display, number, text!) : (null, splitError);
                    if (error is not null)
                    {
                        problems.Add(new DatasetProblem(display, number, error));
                        continue;
                    }
                    records.Add(record!);
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            problems.Add(new DatasetProblem(display, number + 1, $"unreadable gzip after line {number}: {e.Message}; the rest of the file is skipped"));
            return;
        }
        if (expected is { } size && (uint)counting.BytesRead != size)
        {
            problems.Add(new DatasetProblem(display, number, $"truncated gzip: {counting.BytesRead} bytes decompressed where the trailer records {size}; line {number} and what followed it may be lost"));
        }
    }

    /// <summary>The uncompressed size a gzip file's trailer records (ISIZE, modulo 2^32), or null when the file is too short to have one.</summary>
    private static uint? GzipSize(FileStream file)
    {
        if (file.Length < 18)
        {
            return null;
        }
        Span<byte> trailer = stackalloc byte[4];
        file.Seek(-4, SeekOrigin.End);
        file.ReadExactly(trailer);
        file.Seek(0, SeekOrigin.Begin);
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer);
    }

    /// <summary>Parses and checks one record; returns the reason when it is not a valid record of its source.</summary>
    public static (RawRecord? Record, string? Error) Parse(RawSource source, string file, int line, string text) => Parse([source], file, line, text);

    /// <summary>
    /// Parses one record of a raw file holding the rows of <paramref name="tables"/> (one source, or several tables
    /// told apart by their match fields, Log Analytics' <c>Type</c>) and checks it against its table; returns the
    /// reason when it is not a valid row of any.
    /// </summary>
    public static (RawRecord? Record, string? Error) Parse(ImmutableArray<RawSource> tables, string file, int line, string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            return (null, "not JSON: " + e.Message);
        }
        if (node is not JsonObject json)
        {
            return (null, $"a {tables[0].RawFile} record is a JSON object");
        }
        var (source, dispatchError) = Dispatch(tables, json);
        return source is null ? (null, dispatchError) : Check(source, file, line, text, json);
    }

    /// <summary>The table a record is a row of, or why it is none.</summary>
    private static (RawSource? Source, string? Error) Dispatch(ImmutableArray<RawSource> tables, JsonObject json)
    {
        if (tables.Length == 1 && tables[0].Matches.IsEmpty)
        {
            return (tables[0], null);
        }
        string? Text(string path) => Find(json, path) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (tables.FirstOrDefault(t => t.Accepts(Text)) is { } table)
        {
            return (table, null);
        }
        // Say what the record is, in the terms of the match fields, and what the file may hold.
        var fields = tables.SelectMany(t => t.Matches.Select(m => m.Path)).Distinct().ToList();
        var first = fields[0];
        if (Find(json, first) is null)
        {
            return (null, $"missing field '{first}' (a string naming the record's table)");
        }
        var shown = string.Join(", ", fields.Where(f => Find(json, f) is not null).Select(f => $"{f} '{Text(f) ?? Find(json, f)!.ToJsonString()}'"));
        var expected = string.Join("; ", tables.Select(t => string.Join(", ", t.Matches.Select(m => $"{m.Path} '{m.Value}'"))));
        return (null, $"not a row this source reads ({shown}): expected {expected}");
    }

    private static (RawRecord? Record, string? Error) Check(RawSource source, string file, int line, string text, JsonObject json)
    {
        foreach (var required in source.Required)
        {
            var value = Find(json, required.Path);
            if (value is null)
            {
                return (null, $"missing field '{required.Path}' ({Kind(required.Kind)})");
            }
            if (!Is(value, required.Kind))
            {
                return (null, $"field '{required.Path}' is {Describe(value)}, expected {Kind(required.Kind)}");
            }
        }
        foreach (var address in source.Addresses)
        {
            if (Find(json, address) is JsonValue v && v.TryGetValue<string>(out var ip) && ip.Length > 0 && !IPAddress.TryParse(Unmasked(ip), out _))
            {
                return (null, $"field '{address}' '{ip}' is not an IP address");
            }
        }
        var time = Time(Find(json, source.TimePath), source.TimeFormat);
        if (time is null)
        {
            return (null, $"field '{source.TimePath}' is not a {TimeDescription(source.TimeFormat)}");
        }
        return (new RawRecord(source, file, line, text, json, time.Value), null);
    }

    /// <summary>An IPv4 address whose last octet the vendor masked (<see cref="RawMaskedAddress"/>), as the parsers read it.</summary>
    private static string Unmasked(string ip) => ip.EndsWith("." + RawMaskedAddress.Mask, StringComparison.Ordinal) ? ip[..^RawMaskedAddress.Mask.Length] + "0" : ip;

    /// <summary>The node at a raw path (<see cref="RawPaths"/>), or null when a step is missing or JSON null.</summary>
    public static JsonNode? Find(JsonNode? node, string path)
    {
        foreach (var step in RawPaths.Segments(path))
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(step, out node))
            {
                return null;
            }
        }
        return node;
    }

    private static bool Is(JsonNode value, RawKind kind) => kind switch
    {
        RawKind.String => value.GetValueKind() == JsonValueKind.String,
        RawKind.Number => value.GetValueKind() == JsonValueKind.Number,
        RawKind.Object => value is JsonObject,
        RawKind.Array => value is JsonArray,
        _ => value.GetValueKind() == JsonValueKind.Number || (value.GetValueKind() == JsonValueKind.String && long.TryParse(value.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)),
    };

    private static string Kind(RawKind kind) => kind switch
    {
        RawKind.String => "a string",
        RawKind.Number => "a number",
        RawKind.Object => "an object",
        RawKind.Array => "an array",
        _ => "an integer or a string of digits",
    };

    private static string Describe(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "a boolean",
    };

    private static string TimeDescription(RawTimeFormat format) => format switch
    {
        RawTimeFormat.UnixSeconds => "number of seconds since 1970",
        RawTimeFormat.UnixNanos => "count of nanoseconds since 1970",
        _ => "date-time with a zone (ISO 8601)",
    };

    /// <summary>A record's time as its format writes it; null when it is not one.</summary>
    public static DateTime? Time(JsonNode? value, RawTimeFormat format)
    {
        if (value is not JsonValue v)
        {
            return null;
        }
        switch (format)
        {
            case RawTimeFormat.UnixSeconds:
                return v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var s) && s is >= 0 and < 253402300800
                    ? DateTime.UnixEpoch.AddTicks((long)Math.Round(s * TimeSpan.TicksPerSecond)) : null;
            case RawTimeFormat.UnixNanos:
                long ns;
                if (v.GetValueKind() == JsonValueKind.String)
                {
                    if (!long.TryParse(v.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out ns))
                    {
                        return null;
                    }
                }
                else if (!v.TryGetValue(out ns))
                {
                    return null;
                }
                return ns >= 0 ? DateTime.UnixEpoch.AddTicks(ns / 100) : null;
            default:
                if (!v.TryGetValue<string>(out var text))
                {
                    return null;
                }
                var zoned = text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 19 && (text[^6] is '+' or '-'));
                return zoned && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var d) ? d.UtcDateTime : null;
        }
    }

    /// <summary>Counts the bytes read through it (the decompressed size of a gzip file).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
