using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace KeyAbuseContent.Harness.Tables;

/// <summary>A processor of an ingest pipeline failed on a document: Elasticsearch rejects the document.</summary>
public sealed class IngestFailureException(string processor, string message) : Exception($"{processor} processor: {message}")
{
    public string Processor { get; } = processor;
}

/// <summary>The enrich policies an <c>enrich</c> processor reads: the first document whose match field holds the value, or null.</summary>
public interface IEnrichPolicies
{
    JsonObject? Match(string policy, JsonNode value);
}

/// <summary>Where a document goes after its pipelines: the index it was sent to, or the one a <c>reroute</c> processor chose.</summary>
public sealed record IngestOutcome(string? Rerouted);

/// <summary>
/// An Elasticsearch ingest pipeline run on documents, as Elasticsearch runs it, for the processors the pack
/// ships: <c>json</c>, <c>date</c>, <c>set</c> (<c>value</c> with Mustache field references, <c>copy_from</c>,
/// <c>override</c>, <c>ignore_empty_value</c>), <c>rename</c>, <c>gsub</c>, <c>convert</c>, <c>uppercase</c>,
/// <c>dot_expander</c>, <c>remove</c>, <c>enrich</c> (one match, over the <see cref="IEnrichPolicies"/> given),
/// <c>pipeline</c> (another pipeline by its static name, from the resolver given) and <c>reroute</c> (data stream
/// mode with static names: the rest of this pipeline and of the pipelines calling it is skipped).
/// Field names are dotted paths into nested objects. An <c>if</c> condition is run only in the null-safe form
/// <c>ctx.a?.b == 'text'</c> (or <c>!=</c>); a pipeline with any other processor or condition, or a script, is
/// refused when it is built, so the harness never runs something other than what is shipped. A failing processor
/// rejects the document (<see cref="IngestFailureException"/>), as Elasticsearch does without an <c>on_failure</c> handler.
/// </summary>
public sealed class IngestPipeline
{
    private readonly ImmutableArray<Func<JsonObject, IngestRun, bool>> _steps;

    public string Name { get; }

    /// <summary>The state of one document's run through nested pipelines: the data stream it is written to, and whether it was rerouted.</summary>
    private sealed class IngestRun(string? index)
    {
        public string? Index { get; set; } = index;

        public bool Rerouted { get; set; }
    }

    public IngestPipeline(string name, JsonObject definition, IEnrichPolicies? policies = null, Func<string, IngestPipeline?>? pipelines = null)
    {
        Name = name;
        if (definition["on_failure"] is not null)
        {
            throw new NotSupportedException($"pipeline {name}: on_failure is not emulated");
        }
        var steps = ImmutableArray.CreateBuilder<Func<JsonObject, IngestRun, bool>>();
        foreach (var node in definition["processors"]?.AsArray() ?? [])
        {
            var processor = node!.AsObject();
            if (processor.Count != 1)
            {
                throw new NotSupportedException($"pipeline {name}: a processor is an object with one key");
            }
            var (type, body) = processor.First();
            steps.Add(Build(name, type, body!.AsObject(), policies, pipelines));
        }
        _steps = steps.ToImmutable();
    }

    /// <summary>
    /// Runs the pipeline on a document, in place, as it is written to <paramref name="index"/> (a data stream name,
    /// which a <c>reroute</c> processor needs); returns the data stream a <c>reroute</c> chose, if one ran.
    /// </summary>
    public IngestOutcome Run(JsonObject document, string? index = null)
    {
        var run = new IngestRun(index);
        Execute(document, run);
        return new IngestOutcome(run.Rerouted ? run.Index : null);
    }

    private void Execute(JsonObject document, IngestRun run)
    {
        foreach (var step in _steps)
        {
            step(document, run);
            if (run.Rerouted)
            {
                return;
            }
        }
    }

    private static Func<JsonObject, IngestRun, bool> Build(string pipeline, string type, JsonObject p, IEnrichPolicies? policies, Func<string, IngestPipeline?>? pipelines)
    {
        foreach (var (key, _) in p)
        {
            if (key is "on_failure" or "script")
            {
                throw new NotSupportedException($"pipeline {pipeline}: {type} uses '{key}', which is not emulated");
            }
        }
        var condition = p["if"] is { } cond ? Condition(pipeline, type, cond.GetValue<string>()) : null;
        var ignoreFailure = p["ignore_failure"]?.GetValue<bool>() ?? false;
        Func<JsonObject, IngestRun, bool> step = type switch
        {
            "pipeline" => CallPipeline(pipeline, pipelines, Str(p, "name"), p["ignore_missing_pipeline"]?.GetValue<bool>() ?? false),
            "reroute" => Reroute(pipeline, p),
            _ => Simple(pipeline, type, p, policies),
        };
        return (doc, run) =>
        {
            if (condition is not null && !condition(doc))
            {
                return false;
            }
            try
            {
                return step(doc, run);
            }
            catch (IngestFailureException) when (ignoreFailure)
            {
                return false;
            }
        };
    }

    private static readonly Regex ConditionForm = new(
        @"^\s*ctx\.([A-Za-z_@][\w@]*(?:\?\.[A-Za-z_@][\w@]*)*)\s*(==|!=)\s*'((?:[^'\\]|\\.)*)'\s*$", RegexOptions.CultureInvariant);

    /// <summary>
    /// An <c>if</c> condition of the one form emulated, <c>ctx.a?.b == 'text'</c> (or <c>!=</c>): Painless reads
    /// the nested keys null-safely, and <c>==</c> of a string with anything else is equals (false for a number or a
    /// missing field).
    /// </summary>
    private static Func<JsonObject, bool> Condition(string pipeline, string type, string source)
    {
        var m = ConditionForm.Match(source);
        if (!m.Success)
        {
            throw new NotSupportedException($"pipeline {pipeline}: {type} uses the condition '{source}', which is not emulated (only ctx.a?.b == 'text')");
        }
        var keys = m.Groups[1].Value.Split("?.");
        var equal = m.Groups[2].Value == "==";
        var literal = Regex.Replace(m.Groups[3].Value, @"\\(.)", "$1");
        return doc =>
        {
            JsonNode? node = doc;
            foreach (var key in keys)
            {
                if (node is not JsonObject o || !o.TryGetPropertyValue(key, out node))
                {
                    node = null;
                    break;
                }
            }
            var same = node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == literal;
            return same == equal;
        };
    }

    /// <summary>
    /// pipeline: runs another pipeline on the document; a missing one fails the document unless
    /// <c>ignore_missing_pipeline</c>. A reroute inside it ends the calling pipeline too.
    /// </summary>
    private static Func<JsonObject, IngestRun, bool> CallPipeline(string pipeline, Func<string, IngestPipeline?>? pipelines, string name, bool ignoreMissing)
    {
        if (name.Contains("{{", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"pipeline {pipeline}: a templated pipeline name is not emulated");
        }
        return (doc, run) =>
        {
            if (pipelines?.Invoke(name) is not { } called)
            {
                return ignoreMissing ? false : throw new IngestFailureException("pipeline", $"Pipeline processor configured for non-existent pipeline [{name}]");
            }
            called.Execute(doc, run);
            return true;
        };
    }

    /// <summary>
    /// reroute, data stream mode with static names: the document goes to <c>type-dataset-namespace</c> of the data
    /// stream it was written to, dataset and namespace replaced where given; <c>data_stream.*</c> name the new
    /// stream, <c>event.dataset</c> follows <c>data_stream.dataset</c> when the document has one, and no processor
    /// runs after it in this pipeline or in the pipelines calling it.
    /// </summary>
    private static Func<JsonObject, IngestRun, bool> Reroute(string pipeline, JsonObject p)
    {
        if (p["destination"] is not null || p["type"] is not null)
        {
            throw new NotSupportedException($"pipeline {pipeline}: reroute with destination or type is not emulated");
        }
        var dataset = OptStr(p, "dataset");
        var ns = OptStr(p, "namespace");
        foreach (var value in new[] { dataset, ns })
        {
            if (value is not null && (value.Contains("{{", StringComparison.Ordinal) || value.Contains('-', StringComparison.Ordinal)))
            {
                throw new NotSupportedException($"pipeline {pipeline}: reroute with a field reference or a '-' in '{value}' is not emulated");
            }
        }
        return (doc, run) =>
        {
            var parts = run.Index?.Split('-');
            if (parts is not { Length: 3 })
            {
                throw new IngestFailureException("reroute", $"invalid data stream name: [{run.Index}]; must follow naming scheme <type>-<dataset>-<namespace>");
            }
            var target = (Type: parts[0], Dataset: dataset ?? parts[1], Namespace: ns ?? parts[2]);
            Put(doc, "data_stream.type", target.Type);
            Put(doc, "data_stream.dataset", target.Dataset);
            Put(doc, "data_stream.namespace", target.Namespace);
            if (Get(doc, "event.dataset") is not null)
            {
                Put(doc, "event.dataset", target.Dataset);
            }
            run.Index = $"{target.Type}-{target.Dataset}-{target.Namespace}";
            run.Rerouted = true;
            return true;
        };
    }

    private static Func<JsonObject, IngestRun, bool> Simple(string pipeline, string type, JsonObject p, IEnrichPolicies? policies)
    {
        Func<JsonObject, bool> step = type switch
        {
            "json" => Json(Str(p, "field"), OptStr(p, "target_field")),
            "date" => Date(Str(p, "field"), OptStr(p, "target_field") ?? "@timestamp", [.. p["formats"]!.AsArray().Select(f => f!.GetValue<string>())]),
            "set" => Set(Str(p, "field"), p["value"]?.DeepClone(), OptStr(p, "copy_from"), p["override"]?.GetValue<bool>() ?? true, p["ignore_empty_value"]?.GetValue<bool>() ?? false),
            "rename" => Rename(Str(p, "field"), Str(p, "target_field"), IgnoreMissing(p)),
            "gsub" => Gsub(Str(p, "field"), Str(p, "pattern"), Str(p, "replacement"), OptStr(p, "target_field"), IgnoreMissing(p)),
            "convert" => Convert(Str(p, "field"), Str(p, "type"), OptStr(p, "target_field"), IgnoreMissing(p)),
            "dot_expander" => DotExpander(Str(p, "field"), OptStr(p, "path")),
            "enrich" => Enrich(pipeline, policies, Str(p, "policy_name"), Str(p, "field"), Str(p, "target_field"), IgnoreMissing(p), p["override"]?.GetValue<bool>() ?? true, p["max_matches"]?.GetValue<int>() ?? 1),
            "remove" => Remove(p["field"] is JsonArray a ? [.. a.Select(f => f!.GetValue<string>())] : [Str(p, "field")], IgnoreMissing(p)),
            "uppercase" => Uppercase(Str(p, "field"), OptStr(p, "target_field"), IgnoreMissing(p)),
            _ => throw new NotSupportedException($"pipeline {pipeline}: the {type} processor is not emulated"),
        };
        return (doc, _) => step(doc);
    }

    /// <summary>uppercase: a string field in upper case (invariant, as Java's Locale.ROOT); a non-string fails.</summary>
    private static Func<JsonObject, bool> Uppercase(string field, string? target, bool ignoreMissing) => doc =>
    {
        var value = Get(doc, field);
        if (value is null)
        {
            return ignoreMissing ? false : throw new IngestFailureException("uppercase", $"field [{field}] not present as part of path [{field}]");
        }
        if (value is not JsonValue v || !v.TryGetValue<string>(out var text))
        {
            throw new IngestFailureException("uppercase", $"field [{field}] of type [{value.GetValueKind()}] cannot be cast to [java.lang.String]");
        }
        Put(doc, target ?? field, text.ToUpperInvariant());
        return true;
    };

    /// <summary>
    /// enrich: the policy's matching document (its match field and enrich fields) into the target field; nothing when
    /// the field is missing (with <c>ignore_missing</c>) or nothing matches.
    /// </summary>
    private static Func<JsonObject, bool> Enrich(string pipeline, IEnrichPolicies? policies, string policy, string field, string target, bool ignoreMissing, bool overrideExisting, int maxMatches)
    {
        if (policies is null)
        {
            throw new NotSupportedException($"pipeline {pipeline}: enrich with policy {policy} needs the enrich policies' data");
        }
        if (maxMatches != 1)
        {
            throw new NotSupportedException($"pipeline {pipeline}: enrich with max_matches {maxMatches} is not emulated");
        }
        return doc =>
        {
            if (Get(doc, field) is not { } value)
            {
                return ignoreMissing ? false : throw new IngestFailureException("enrich", $"field [{field}] not present as part of path [{field}]");
            }
            if (policies.Match(policy, value) is not { } match || (!overrideExisting && Get(doc, target) is not null))
            {
                return false;
            }
            Put(doc, target, match.DeepClone());
            return true;
        };
    }

    private static string Str(JsonObject p, string key) => p[key]?.GetValue<string>() ?? throw new NotSupportedException($"processor lacks '{key}'");

    private static string? OptStr(JsonObject p, string key) => p[key]?.GetValue<string>();

    private static bool IgnoreMissing(JsonObject p) => p["ignore_missing"]?.GetValue<bool>() ?? false;

    /// <summary>The node at a dotted path, or null.</summary>
    public static JsonNode? Get(JsonObject doc, string path)
    {
        if (doc.TryGetPropertyValue(path, out var direct))
        {
            return direct;
        }
        JsonNode? node = doc;
        foreach (var step in path.Split('.'))
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(step, out node))
            {
                return null;
            }
        }
        return node;
    }

    private static void Put(JsonObject doc, string path, JsonNode? value)
    {
        var steps = path.Split('.');
        var node = doc;
        foreach (var step in steps[..^1])
        {
            if (node[step] is not JsonObject child)
            {
                if (node[step] is not null)
                {
                    throw new IngestFailureException("set", $"cannot add a field under [{step}]: it is not an object");
                }
                node[step] = child = [];
            }
            node = child;
        }
        node[steps[^1]] = value;
    }

    private static bool Delete(JsonObject doc, string path)
    {
        var steps = path.Split('.');
        JsonNode? node = doc;
        foreach (var step in steps[..^1])
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(step, out node))
            {
                return false;
            }
        }
        return node is JsonObject parent && parent.Remove(steps[^1]);
    }

    private static Func<JsonObject, bool> Json(string field, string? target) => doc =>
    {
        if (Get(doc, field) is not JsonValue v || !v.TryGetValue<string>(out var text))
        {
            throw new IngestFailureException("json", $"field [{field}] is not a string");
        }
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new IngestFailureException("json", $"field [{field}] is not JSON: {e.Message}");
        }
        Put(doc, target ?? field, parsed);
        return true;
    };

    private static Func<JsonObject, bool> Date(string field, string target, ImmutableArray<string> formats) => doc =>
    {
        var value = Get(doc, field) as JsonValue ?? throw new IngestFailureException("date", $"field [{field}] not present as part of path [{field}]");
        foreach (var format in formats)
        {
            if (ParseDate(value, format) is { } d)
            {
                Put(doc, target, d.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                return true;
            }
        }
        throw new IngestFailureException("date", $"unable to parse date [{value.ToJsonString()}] with formats [{string.Join(", ", formats)}]");
    };

    /// <summary>A date as Elasticsearch's date processor reads it in one of its named formats; millisecond precision.</summary>
    public static DateTime? ParseDate(JsonValue value, string format)
    {
        var text = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();
        DateTime result;
        switch (format)
        {
            case "ISO8601":
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d))
                {
                    return null;
                }
                result = d.UtcDateTime;
                break;
            case "UNIX":
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s))
                {
                    return null;
                }
                result = DateTime.UnixEpoch.AddTicks((long)Math.Round(s * 1000) * TimeSpan.TicksPerMillisecond);
                break;
            case "UNIX_MS":
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
                {
                    return null;
                }
                result = DateTime.UnixEpoch.AddMilliseconds(ms);
                break;
            default:
                throw new NotSupportedException($"date format {format} is not emulated");
        }
        return new DateTime(result.Ticks - (result.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
    }

    private static bool IsEmpty(JsonNode? node) => node is null || (node is JsonValue v && v.TryGetValue<string>(out var s) && s.Length == 0);

    private static Func<JsonObject, bool> Set(string field, JsonNode? value, string? copyFrom, bool overrideExisting, bool ignoreEmpty) => doc =>
    {
        JsonNode? result;
        if (copyFrom is not null)
        {
            result = Get(doc, copyFrom)?.DeepClone();
            if (result is null && !ignoreEmpty)
            {
                throw new IngestFailureException("set", $"field [{copyFrom}] not present as part of path [{copyFrom}]");
            }
        }
        else if (value is JsonValue v && v.TryGetValue<string>(out var template))
        {
            result = Mustache(doc, template);
        }
        else
        {
            result = value?.DeepClone();
        }
        if (ignoreEmpty && IsEmpty(result))
        {
            return false;
        }
        if (!overrideExisting && Get(doc, field) is not null)
        {
            return false;
        }
        Put(doc, field, result);
        return true;
    };

    private static readonly Regex Reference = new(@"\{\{\{?\s*([^{}\s]+)\s*\}?\}\}", RegexOptions.CultureInvariant);

    /// <summary>A set value's template: <c>{{{field}}}</c> and <c>{{field}}</c> replaced by the field's text (empty when missing).</summary>
    private static JsonNode Mustache(JsonObject doc, string template) =>
        JsonValue.Create(Reference.Replace(template, m => Get(doc, m.Groups[1].Value) is JsonValue v
            ? (v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString())
            : ""))!;

    private static Func<JsonObject, bool> Rename(string field, string target, bool ignoreMissing) => doc =>
    {
        var value = Get(doc, field);
        if (value is null)
        {
            return ignoreMissing ? false : throw new IngestFailureException("rename", $"field [{field}] doesn't exist");
        }
        if (Get(doc, target) is not null)
        {
            throw new IngestFailureException("rename", $"field [{target}] already exists");
        }
        Delete(doc, field);
        Put(doc, target, value.DeepClone());
        return true;
    };

    private static Func<JsonObject, bool> Gsub(string field, string pattern, string replacement, string? target, bool ignoreMissing)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        // Java writes group references as $1; .NET reads them the same way.
        return doc =>
        {
            var value = Get(doc, field);
            if (value is null)
            {
                return ignoreMissing ? false : throw new IngestFailureException("gsub", $"field [{field}] not present as part of path [{field}]");
            }
            if (value is not JsonValue v || !v.TryGetValue<string>(out var text))
            {
                throw new IngestFailureException("gsub", $"field [{field}] of type [{value.GetValueKind()}] cannot be cast to [java.lang.String]");
            }
            Put(doc, target ?? field, regex.Replace(text, replacement));
            return true;
        };
    }

    private static Func<JsonObject, bool> Convert(string field, string type, string? target, bool ignoreMissing) => doc =>
    {
        var value = Get(doc, field);
        if (value is null)
        {
            return ignoreMissing ? false : throw new IngestFailureException("convert", $"field [{field}] not present as part of path [{field}]");
        }
        var converted = value is JsonArray array
            ? new JsonArray([.. array.Select(item => ConvertOne(item, type))])
            : ConvertOne(value, type);
        Put(doc, target ?? field, converted);
        return true;
    };

    private static JsonNode? ConvertOne(JsonNode? node, string type)
    {
        if (node is not JsonValue v)
        {
            throw new IngestFailureException("convert", $"cannot convert [{node?.ToJsonString()}] to {type}");
        }
        var text = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        switch (type)
        {
            case "long":
            case "integer":
                if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var n) && n == Math.Floor(n))
                {
                    return JsonValue.Create((long)n);
                }
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                    ? JsonValue.Create(l)
                    : throw new IngestFailureException("convert", $"unable to convert [{text}] to {type}");
            case "double":
            case "float":
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                    ? JsonValue.Create(d)
                    : throw new IngestFailureException("convert", $"unable to convert [{text}] to {type}");
            case "boolean":
                return text.ToLowerInvariant() switch
                {
                    "true" => JsonValue.Create(true),
                    "false" => JsonValue.Create(false),
                    _ => throw new IngestFailureException("convert", $"[{text}] is not a boolean value, cannot convert to boolean"),
                };
            case "ip":
                return IPAddress.TryParse(text, out _) && !text.Contains('%', StringComparison.Ordinal)
                    ? JsonValue.Create(text)
                    : throw new IngestFailureException("convert", $"'{text}' is not an IP string literal.");
            case "string":
                return JsonValue.Create(text);
            default:
                throw new NotSupportedException($"convert to {type} is not emulated");
        }
    }

    /// <summary>Keys holding dots (all of them for <c>*</c>) under a path become nested objects, merged with what is there.</summary>
    private static Func<JsonObject, bool> DotExpander(string field, string? path) => doc =>
    {
        var holder = path is null ? doc : Get(doc, path) as JsonObject;
        if (holder is null)
        {
            return false;
        }
        var keys = holder.Select(kv => kv.Key).Where(k => k.Contains('.', StringComparison.Ordinal) && (field == "*" || k == field)).ToList();
        foreach (var key in keys)
        {
            var value = holder[key];
            holder.Remove(key);
            var steps = key.Split('.');
            var node = holder;
            foreach (var step in steps[..^1])
            {
                if (node[step] is not JsonObject child)
                {
                    if (node[step] is not null)
                    {
                        throw new IngestFailureException("dot_expander", $"cannot expand [{key}]: [{step}] is not an object");
                    }
                    node[step] = child = [];
                }
                node = child;
            }
            node[steps[^1]] = value;
        }
        return true;
    };

    private static Func<JsonObject, bool> Remove(ImmutableArray<string> fields, bool ignoreMissing) => doc =>
    {
        foreach (var field in fields)
        {
            if (!Delete(doc, field) && !ignoreMissing)
            {
                throw new IngestFailureException("remove", $"field [{field}] not present as part of path [{field}]");
            }
        }
        return true;
    };
}
