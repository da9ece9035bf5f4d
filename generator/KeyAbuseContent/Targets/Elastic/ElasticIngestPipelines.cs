using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>
/// The ingest pipelines that normalize each raw source on Elastic: the record (the JSON line in <c>message</c>, as
/// Elastic Agent's custom logs input or Filebeat ships it) parsed with <c>json</c>, then each normalized field
/// written to its ECS / GenAI name with <c>set</c> (<c>copy_from</c>), <c>gsub</c> (lookup tables), <c>convert</c>,
/// <c>date</c> and <c>dot_expander</c> (keys holding dots), and the raw copy removed. No script and no Painless condition: what the harness emulates is
/// exactly these processors (<c>KeyAbuseContent.Harness.Tables.IngestPipeline</c>).
/// </summary>
public static class ElasticIngestPipelines
{
    /// <summary>Where the <c>json</c> processor puts the parsed record while the pipeline runs.</summary>
    public const string RawField = "keyabuse.raw";

    /// <summary>The pipeline of a raw source: its description and processors.</summary>
    public static JsonObject Pipeline(RawSource raw)
    {
        var mapped = ElasticRawJoins.Mapped(raw);
        var processors = new JsonArray { Processor("json", new JsonObject { ["field"] = "message", ["target_field"] = RawField }) };
        // String columns holding JSON documents (AzureDiagnostics' properties_s) parsed in place, when the record has them.
        foreach (var column in raw.Columns.Where(c => c.JsonText && mapped.SelectMany(m => Paths(m.Value)).Any(p => RawPaths.StartsWith(p, c.Path) && p != c.Path)))
        {
            processors.Add(Processor("json", new JsonObject { ["field"] = Field(column.Path), ["ignore_failure"] = true }));
        }
        // Keys holding dots (OpenTelemetry attribute names, OpenAI's api_key.created) become objects, so dotted field
        // paths reach them: shallow parents first.
        foreach (var parent in DottedParents(raw, mapped))
        {
            processors.Add(Processor("dot_expander", new JsonObject { ["field"] = "*", ["path"] = parent }));
        }
        var time = Field(raw.TimePath);
        if (raw.TimeFormat == RawTimeFormat.UnixNanos)
        {
            // The date processor reads milliseconds at most: drop the last six digits of the nanoseconds.
            var millis = RawField + ".keyabuse_time_ms";
            processors.Add(Copy(millis, raw.TimePath));
            processors.Add(Processor("convert", new JsonObject { ["field"] = millis, ["type"] = "string" }));
            processors.Add(Processor("gsub", new JsonObject { ["field"] = millis, ["pattern"] = @"^(\d+)\d{6}$", ["replacement"] = "$1" }));
            time = millis;
        }
        processors.Add(Processor("date", new JsonObject
        {
            ["field"] = time,
            ["target_field"] = "@timestamp",
            ["formats"] = new JsonArray(raw.TimeFormat switch
            {
                RawTimeFormat.UnixSeconds => "UNIX",
                RawTimeFormat.UnixNanos => "UNIX_MS",
                _ => "ISO8601",
            }),
        }));
        processors.Add(Processor("set", new JsonObject { ["field"] = "event.dataset", ["value"] = raw.Dataset }));
        foreach (var (field, value) in mapped)
        {
            foreach (var p in FieldProcessors(field, value))
            {
                processors.Add(p);
            }
        }
        if (raw.Target.Enriched && !ElasticRawJoins.Staged(raw))
        {
            foreach (var p in ElasticGeo.Processors())
            {
                processors.Add(p);
            }
        }
        processors.Add(Processor("remove", new JsonObject { ["field"] = new JsonArray("message", RawField), ["ignore_missing"] = true }));
        return new JsonObject
        {
            ["description"] = ElasticRawJoins.Staged(raw)
                ? $"KeyAbuseContent: {raw.Description}, their fields for the join that writes {ElasticRawJoins.JoinParent(raw).ElasticDataStream}, into {ElasticRawJoins.DataStream(raw)}."
                : $"KeyAbuseContent: {raw.Description}, normalized as {Sources.Name(raw.Feeds)} events (ECS and OpenTelemetry GenAI fields) for {raw.ElasticDataStream}.",
            ["processors"] = processors,
        };
    }

    /// <summary>The fields a normalized document of a raw source holds and their Elasticsearch types (the index mapping).</summary>
    public static ImmutableArray<(string Field, string Type)> Mapping(RawSource raw) =>
        [("@timestamp", "date"), ("event.dataset", "keyword"), .. raw.Target.Fields.Where(f => f.Name is not ("time" or "tokens")).Select(f => (f.Esql, EsType(f.Type)))];

    /// <summary>An Elasticsearch field type for a language type.</summary>
    public static string EsType(ExprType type) => type switch
    {
        ExprType.Long => "long",
        ExprType.Real => "double",
        ExprType.DateTime => "date",
        ExprType.Ip => "ip",
        ExprType.Bool => "boolean",
        _ => "keyword",
    };

    /// <summary>The setup requests that install the pipelines, and the joins of sources whose rows are joined.</summary>
    public static IEnumerable<ElasticSetupRequest> Requests() =>
        RawSources.Tables.Select(r => new ElasticSetupRequest("PUT", "/_ingest/pipeline/" + r.ElasticPipeline, Pipeline(r),
            $"normalizes raw {r.Name} records into {ElasticRawJoins.DataStream(r)}: ship the JSON lines with this pipeline (Elastic Agent custom logs, or Filebeat's pipeline setting)"))
        .Concat(RawSources.All.Where(r => r.Join is not null).SelectMany(ElasticRawJoins.Requests));

    public static JsonObject Processor(string type, JsonObject body) => new() { [type] = body };

    /// <summary>A raw path as an ingest field path, once its dotted keys are expanded.</summary>
    private static string Field(string path) => Field(RawField, path);

    /// <summary>A path under a root (empty: the document's own fields, as an integration's pipeline leaves them) as an ingest field path.</summary>
    private static string Field(string root, string path) => (root.Length == 0 ? "" : root + ".") + string.Join('.', RawPaths.Segments(path));

    /// <summary>The raw paths a mapped value reads.</summary>
    public static IEnumerable<string> Paths(RawValue value) => value switch
    {
        RawPath p => [p.Path],
        RawLookup l => [l.Path],
        RawMaskedAddress m => [m.Path],
        RawUpper u => [u.Path],
        RawNanosAsMillis n => [n.Path],
        RawFirst f => f.Values.SelectMany(Paths),
        _ => [],
    };

    /// <summary>The objects holding keys with dots, as ingest paths, shallow first.</summary>
    private static IEnumerable<string> DottedParents(RawSource raw, IEnumerable<(SourceField Field, RawValue Value)> mapped)
    {
        var parents = new SortedSet<string>(Comparer<string>.Create((a, b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b)));
        foreach (var path in mapped.SelectMany(f => Paths(f.Value)).Append(raw.TimePath))
        {
            var segments = RawPaths.Segments(path);
            for (var i = 0; i < segments.Length; i++)
            {
                if (segments[i].Contains('.', StringComparison.Ordinal))
                {
                    parents.Add(string.Join('.', segments.Take(i).Prepend(RawField)));
                }
            }
        }
        return parents;
    }

    /// <summary>The processors that write a field from a mapped value, converted to the field's type.</summary>
    public static IEnumerable<JsonObject> FieldProcessors(SourceField field, RawValue value) => FieldProcessors(field, value, RawField);

    /// <summary>
    /// The processors that write a field from a value whose paths are under <paramref name="root"/> (the parsed raw
    /// record, or the document itself when it is empty), converted to the field's type.
    /// </summary>
    public static IEnumerable<JsonObject> FieldProcessors(SourceField field, RawValue value, string root)
    {
        foreach (var p in ValueProcessors(field.Esql, value, root))
        {
            yield return p;
        }
        var convert = field.Type switch
        {
            ExprType.Long => "long",
            ExprType.Real => "double",
            ExprType.Ip => "ip",
            ExprType.Bool => "boolean",
            _ => null,
        };
        if (convert is not null)
        {
            yield return Processor("convert", new JsonObject { ["field"] = field.Esql, ["type"] = convert, ["ignore_missing"] = true });
        }
    }

    private static IEnumerable<JsonObject> ValueProcessors(string target, RawValue value, string root)
    {
        switch (value)
        {
            case RawConst c:
                yield return Processor("set", new JsonObject { ["field"] = target, ["value"] = c.Value });
                break;
            case RawPath p:
                yield return Copy(target, p.Path, root);
                if (p.Default is { } d)
                {
                    yield return Processor("set", new JsonObject { ["field"] = target, ["value"] = d, ["override"] = false });
                }
                break;
            case RawLookup l:
                yield return Copy(target, l.Path, root);
                // gsub reads strings only; a number or boolean is compared by its text, as the KQL parser does.
                yield return Processor("convert", new JsonObject { ["field"] = target, ["type"] = "string", ["ignore_missing"] = true });
                foreach (var (from, to) in l.Table)
                {
                    yield return Processor("gsub", new JsonObject { ["field"] = target, ["pattern"] = "^" + Literal(from) + "$", ["replacement"] = to, ["ignore_missing"] = true });
                }
                if (l.Otherwise is { } o)
                {
                    // Anything the table did not translate: the table's outputs are left alone.
                    var outputs = string.Join('|', l.Table.Select(t => Literal(t.To)).Distinct());
                    var pattern = outputs.Length == 0 ? "^.+$" : $"^(?!(?:{outputs})$).+$";
                    yield return Processor("gsub", new JsonObject { ["field"] = target, ["pattern"] = pattern, ["replacement"] = o, ["ignore_missing"] = true });
                }
                if (l.WhenMissing is { } m)
                {
                    yield return Processor("set", new JsonObject { ["field"] = target, ["value"] = m, ["override"] = false });
                }
                break;
            case RawMaskedAddress masked:
                yield return Copy(target, masked.Path, root);
                yield return Processor("gsub", new JsonObject { ["field"] = target, ["pattern"] = @"\." + Literal(RawMaskedAddress.Mask) + "$", ["replacement"] = ".0", ["ignore_missing"] = true });
                break;
            case RawFirst f:
                // The last value first, then each earlier path over it when it is present: the first present one wins.
                foreach (var p in ValueProcessors(target, f.Values[^1], root))
                {
                    yield return p;
                }
                foreach (var earlier in f.Values[..^1].Reverse())
                {
                    yield return Copy(target, ((RawPath)earlier).Path, root);
                }
                break;
            case RawUpper upper:
                yield return Copy(target, upper.Path, root);
                yield return Processor("uppercase", new JsonObject { ["field"] = target, ["ignore_missing"] = true });
                break;
            case RawNanosAsMillis nanos:
                // Whole milliseconds of a duration in nanoseconds: its text without the last six digits (no script).
                yield return Copy(target, nanos.Path, root);
                yield return Processor("convert", new JsonObject { ["field"] = target, ["type"] = "string", ["ignore_missing"] = true });
                yield return Processor("gsub", new JsonObject { ["field"] = target, ["pattern"] = @"^(\d+)\d{6}$", ["replacement"] = "$1", ["ignore_missing"] = true });
                break;
            default:
                throw new InvalidOperationException("unknown raw value " + value.GetType().Name);
        }
    }

    private static JsonObject Copy(string target, string path) => Copy(target, path, RawField);

    private static JsonObject Copy(string target, string path, string root) =>
        Processor("set", new JsonObject { ["field"] = target, ["copy_from"] = Field(root, path), ["ignore_empty_value"] = true });

    /// <summary>A literal as a regular expression: metacharacters escaped (read alike by Java and .NET).</summary>
    public static string Literal(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text)
        {
            if (@".^$|?*+()[]{}\/-".Contains(c, StringComparison.Ordinal))
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
