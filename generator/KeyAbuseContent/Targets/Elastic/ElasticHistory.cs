using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>One Elasticsearch API call of the setup: what it creates and why; <see cref="Body"/> is null for a call that takes none.</summary>
public sealed record ElasticSetupRequest(string Method, string Path, JsonObject? Body, string Purpose)
{
    /// <summary>The call as one NDJSON line: method, path, purpose, and body when it has one.</summary>
    public JsonObject ToJson()
    {
        var line = new JsonObject { ["method"] = Method, ["path"] = Path, ["purpose"] = Purpose };
        if (Body is not null)
        {
            line["body"] = Body.DeepClone();
        }
        return line;
    }

    /// <summary>
    /// A transform's creation (<c>PUT /_transform/&lt;id&gt;</c>) followed by its start (<c>POST /_transform/&lt;id&gt;/_start</c>,
    /// no body): Elasticsearch creates a transform stopped, and a stopped transform keeps no lookup index current.
    /// </summary>
    public static IEnumerable<ElasticSetupRequest> Transform(string id, JsonObject body, string purpose) =>
    [
        new("PUT", TransformPath(id), body, purpose),
        new("POST", TransformPath(id) + "/_start", null, $"starts the transform {id} (created stopped)"),
    ];

    /// <summary>The path of a transform.</summary>
    public static string TransformPath(string id) => "/_transform/" + id;
}

/// <summary>
/// The Elasticsearch objects that keep a rule's history for its <c>LOOKUP JOIN</c>: lookup-mode indices
/// and the continuous transforms (with retention policies) that fill them from the activity data stream,
/// filtered by the rule's own <c>where</c> (as query DSL) so they count what the rule counts.
/// </summary>
public static class ElasticHistory
{
    /// <summary>The ingest pipeline that stamps transform output, so a transform can follow another.</summary>
    public const string UpdatedPipeline = "keyabuse-transform-updated";

    private const string Updated = "keyabuse.updated";

    /// <summary>The calls every installation needs once: the pipeline and the inventory lookup index.</summary>
    public static IEnumerable<ElasticSetupRequest> Common()
    {
        yield return new ElasticSetupRequest("PUT", "/_ingest/pipeline/" + UpdatedPipeline, new JsonObject
        {
            ["description"] = "KeyAbuseContent: stamps transform output with the time it was written, for chained transforms",
            ["processors"] = new JsonArray(new JsonObject { ["set"] = new JsonObject { ["field"] = Updated, ["value"] = "{{{_ingest.timestamp}}}" } }),
        }, "stamps transform output for the next transform in a chain");
        var inventory = new JsonObject { ["@timestamp"] = Type("date") };
        foreach (var f in Sources.Inventory.Fields)
        {
            inventory[f.Esql] = Type(f.Type switch { ExprType.DateTime => "date", ExprType.Real => "double", _ => "keyword" });
        }
        yield return new ElasticSetupRequest("PUT", "/" + Sources.Inventory.EsqlIndex, LookupIndex(inventory), "the key inventory, one document a key, rewritten by the inventory sync with @timestamp as the sync time");
        foreach (var geo in ElasticGeo.Requests())
        {
            yield return geo;
        }
        foreach (var pipeline in ElasticIngestPipelines.Requests())
        {
            yield return pipeline;
        }
        foreach (var hook in ElasticIntegrations.Requests())
        {
            yield return hook;
        }
    }

    /// <summary>The calls a rule's history needs; none for rules without history.</summary>
    public static IReadOnlyList<ElasticSetupRequest> For(AnalyzedRule rule) => rule.Detection switch
    {
        BoundBaselineDetection b => Baseline(rule, b),
        BoundNewValueDetection n => KnownValues(rule, n.Where, n.By, n.Field, n.Syntax.History),
        BoundProfileDetection { Syntax.Learned: { } learned } p => KnownValues(rule, p.Where, p.By, p.Field, learned),
        _ => [],
    };

    private static JsonObject Type(string type) => new() { ["type"] = type };

    private static JsonObject LookupIndex(JsonObject properties) => new()
    {
        ["settings"] = new JsonObject { ["index.mode"] = "lookup" },
        ["mappings"] = new JsonObject { ["dynamic"] = "strict", ["properties"] = Nest(properties) },
    };

    private static JsonObject PlainIndex(JsonObject properties) => new()
    {
        ["mappings"] = new JsonObject { ["properties"] = Nest(properties) },
    };

    /// <summary>Mappings with dotted names written as nested properties, as Elasticsearch stores them.</summary>
    private static JsonObject Nest(JsonObject flat)
    {
        var root = new JsonObject();
        foreach (var (name, mapping) in flat)
        {
            var parts = name.Split('.');
            var node = root;
            for (var i = 0; i < parts.Length - 1; i++)
            {
                if (node[parts[i]] is not JsonObject child)
                {
                    child = new JsonObject { ["properties"] = new JsonObject() };
                    node[parts[i]] = child;
                }
                node = (JsonObject)child["properties"]!;
            }
            node[parts[^1]] = mapping!.DeepClone();
        }
        return root;
    }

    /// <summary>The painless expression of a field's value as the string ES|QL's TO_STRING gives.</summary>
    private static string Painless(string field) => $"String.valueOf(doc['{field}'].value)";

    private static string Guard(IEnumerable<string> fields) =>
        string.Concat(fields.Select(f => $"if (doc['{f}'].size() == 0) {{ return; }} "));

    /// <summary>The entity key: the by fields joined with '|', as the ES|QL query builds it.</summary>
    private static string EntityExpression(IEnumerable<SourceField> by) =>
        string.Join(" + '|' + ", by.Select(f => Painless(f.Esql)));

    private static JsonObject Source(AnalyzedRule rule, Bound? where, JsonObject? extraFilter, JsonObject runtime)
    {
        var filters = new JsonArray();
        if (where is not null)
        {
            filters.Add(QueryDslEmitter.Emit(where));
        }
        if (extraFilter is not null)
        {
            filters.Add(extraFilter.DeepClone());
        }
        var source = new JsonObject { ["index"] = new JsonArray([.. rule.Source.EsqlIndex.Split(',').Select(i => (JsonNode)i)]) };
        if (filters.Count > 0)
        {
            source["query"] = new JsonObject { ["bool"] = new JsonObject { ["filter"] = filters } };
        }
        source["runtime_mappings"] = runtime;
        return source;
    }

    private static JsonObject Runtime(string type, string script) => new() { ["type"] = type, ["script"] = new JsonObject { ["source"] = script } };

    private static JsonObject Transform(string description, JsonObject source, JsonObject groupBy, JsonObject aggregations, string dest, string syncField, string retentionField, TimeSpan retention, string frequency, bool stamp) => new()
    {
        ["description"] = description,
        ["source"] = source,
        ["dest"] = stamp ? new JsonObject { ["index"] = dest, ["pipeline"] = UpdatedPipeline } : new JsonObject { ["index"] = dest },
        ["frequency"] = frequency,
        ["sync"] = new JsonObject { ["time"] = new JsonObject { ["field"] = syncField, ["delay"] = "60s" } },
        ["pivot"] = new JsonObject { ["group_by"] = groupBy, ["aggregations"] = aggregations },
        ["retention_policy"] = new JsonObject { ["time"] = new JsonObject { ["field"] = retentionField, ["max_age"] = KqlRenderer.Span(retention) } },
        ["settings"] = new JsonObject { ["max_page_search_size"] = 500 },
    };

    private static JsonObject Terms(string field) => new() { ["terms"] = new JsonObject { ["field"] = field } };

    private static JsonObject Agg(string kind, string field) => new() { [kind] = new JsonObject { ["field"] = field } };

    /// <summary>When each value of a field, and each entity, was first and last seen: for new values and learned profiles.</summary>
    private static List<ElasticSetupRequest> KnownValues(AnalyzedRule rule, Bound? where, ImmutableArray<SourceField> byFields, SourceField valueField, TimeSpan history)
    {
        var name = rule.Rule.Name;
        var field = valueField.Esql;
        var by = byFields.Select(f => f.Esql).ToList();
        var exists = new JsonObject { ["exists"] = new JsonObject { ["field"] = field } };
        var entity = EntityExpression(byFields);
        var values = HistoryTables.ElasticKnownValues(name);
        var entities = HistoryTables.ElasticKnownEntities(name);
        var valueScript = $"{Guard([.. by, field])}emit('{name}|' + {entity} + '|' + {Painless(field)});";
        var entityScript = $"{Guard(by)}emit('{name}|' + {entity});";
        return
        [
            new("PUT", "/" + values, LookupIndex(new JsonObject
            {
                ["keyabuse.lookup_key"] = Type("keyword"),
                ["keyabuse.history.first_seen"] = Type("date"),
                ["keyabuse.history.last_seen"] = Type("date"),
            }), $"{name}: when each {valueField.Name} was first and last seen per entity"),
            new("PUT", "/" + entities, LookupIndex(new JsonObject
            {
                ["keyabuse.entity_key"] = Type("keyword"),
                ["keyabuse.entity_history.first_seen"] = Type("date"),
                ["keyabuse.entity_history.last_seen"] = Type("date"),
            }), $"{name}: when each entity was first seen"),
            .. ElasticSetupRequest.Transform($"{name}-known-values", Transform(
                $"KeyAbuseContent {name}: first and last sighting of each {valueField.Name} per entity",
                Source(rule, where, exists, new JsonObject { ["keyabuse.lookup_key"] = Runtime("keyword", valueScript) }),
                new JsonObject { ["keyabuse.lookup_key"] = Terms("keyabuse.lookup_key") },
                new JsonObject { ["keyabuse.history.first_seen"] = Agg("min", "@timestamp"), ["keyabuse.history.last_seen"] = Agg("max", "@timestamp") },
                values, "@timestamp", "keyabuse.history.last_seen", history, "1m", stamp: false), $"{name}: keeps {values}"),
            .. ElasticSetupRequest.Transform($"{name}-known-entities", Transform(
                $"KeyAbuseContent {name}: first and last sighting of each entity",
                Source(rule, where, exists, new JsonObject { ["keyabuse.entity_key"] = Runtime("keyword", entityScript) }),
                new JsonObject { ["keyabuse.entity_key"] = Terms("keyabuse.entity_key") },
                new JsonObject { ["keyabuse.entity_history.first_seen"] = Agg("min", "@timestamp"), ["keyabuse.entity_history.last_seen"] = Agg("max", "@timestamp") },
                entities, "@timestamp", "keyabuse.entity_history.last_seen", history, "1m", stamp: false), $"{name}: keeps {entities}"),
        ];
    }

    /// <summary>
    /// Three chained transforms, as on Sentinel a summary rule and a refresh: the metric per bucket,
    /// the busiest bucket of each hour, and the statistic of those hourly peaks per entity and slot.
    /// </summary>
    private static List<ElasticSetupRequest> Baseline(AnalyzedRule rule, BoundBaselineDetection b)
    {
        var name = rule.Rule.Name;
        var h = b.Syntax.History;
        var by = b.By.Select(f => f.Esql).ToList();
        var buckets = $"keyabuse-buckets-{name}";
        var hourly = $"keyabuse-hourly-{name}";
        var baseline = HistoryTables.ElasticBaseline(name);
        var entityScript = $"{Guard(by)}emit({EntityExpression(b.By)});";
        var metric = b.SumField is { } sum
            ? sum.Name == "tokens"
                ? new JsonObject { ["sum"] = new JsonObject { ["script"] = new JsonObject { ["source"] = "(doc['gen_ai.usage.input_tokens'].size() == 0 ? 0 : doc['gen_ai.usage.input_tokens'].value) + (doc['gen_ai.usage.output_tokens'].size() == 0 ? 0 : doc['gen_ai.usage.output_tokens'].value)" } } }
                : Agg("sum", sum.Esql)
            // A filter aggregation's document count: buckets with events but none matching count 0.
            : b.When is { } when
                ? new JsonObject { ["filter"] = QueryDslEmitter.Emit(when) }
                : Agg("value_count", "@timestamp");
        var schemes = new List<Seasonality> { h.Seasonality };
        if (h.Fallback != Fallback.None)
        {
            schemes.Add(KqlRuleCompiler.AsSeasonality(h.Fallback));
        }
        var slotScript = new StringBuilder("if (doc['keyabuse.entity'].size() == 0) { return; } ");
        slotScript.Append("long how = Math.floorMod(Math.floorDiv(doc['keyabuse.hour'].value.toInstant().toEpochMilli(), 3600000L) - 96L, 168L); ");
        foreach (var s in schemes)
        {
            var slot = s switch
            {
                Seasonality.HourOfWeek => "how",
                Seasonality.DayTypeHour => "(how >= 120 ? 24 : 0) + how % 24",
                Seasonality.HourOfDay => "how % 24",
                _ => "0",
            };
            slotScript.Append($"emit('{name}|' + doc['keyabuse.entity'].value + '|{KqlRuleCompiler.SchemeName(s)}:' + String.valueOf({slot})); ");
        }
        var statistic = new JsonObject();
        var percentile = h.Statistic switch
        {
            Statistic.Median => 50,
            Statistic.P90 => 90,
            Statistic.P95 => 95,
            Statistic.P99 => 99,
            _ => 0,
        };
        if (percentile > 0)
        {
            statistic["keyabuse_percentile"] = new JsonObject { ["percentiles"] = new JsonObject { ["field"] = "keyabuse.metric", ["percents"] = new JsonArray(percentile) } };
            statistic["keyabuse.history.value"] = new JsonObject
            {
                ["bucket_script"] = new JsonObject
                {
                    ["buckets_path"] = new JsonObject { ["p"] = $"keyabuse_percentile[{percentile}.0]" },
                    ["script"] = "params.p",
                },
            };
        }
        else if (h.Statistic == Statistic.TrimmedMean)
        {
            // The mean without the highest sample, as the Sentinel refresh computes it; no value for a single sample.
            statistic["keyabuse_sum"] = Agg("sum", "keyabuse.metric");
            statistic["keyabuse_max"] = Agg("max", "keyabuse.metric");
            statistic["keyabuse_count"] = Agg("value_count", "keyabuse.metric");
            statistic["keyabuse.history.value"] = new JsonObject
            {
                ["bucket_script"] = new JsonObject
                {
                    ["buckets_path"] = new JsonObject { ["s"] = "keyabuse_sum", ["m"] = "keyabuse_max", ["n"] = "keyabuse_count" },
                    ["script"] = "params.n > 1 ? (params.s - params.m) / (params.n - 1) : null",
                },
            };
        }
        else
        {
            statistic["keyabuse.history.value"] = Agg(h.Statistic == Statistic.Mean ? "avg" : "max", "keyabuse.metric");
        }
        statistic["keyabuse.history.samples"] = Agg("value_count", "keyabuse.hour");
        statistic["keyabuse.history.last_hour"] = Agg("max", "keyabuse.hour");
        // Whole days of history before today, as Sentinel's daily refresh reads them: the current day never
        // becomes its own baseline, whatever it holds.
        var recent = new JsonObject { ["range"] = new JsonObject { ["keyabuse.hour"] = new JsonObject { ["gt"] = "now-" + KqlRenderer.Span(h.Length) + "/d", ["lt"] = "now/d" } } };
        return
        [
            new("PUT", "/" + buckets, PlainIndex(new JsonObject
            {
                ["keyabuse.entity"] = Type("keyword"),
                ["keyabuse.bucket"] = Type("date"),
                ["keyabuse.value"] = Type("double"),
                [Updated] = Type("date"),
            }), $"{name}: the metric per {KqlRenderer.Span(b.Syntax.Metric.Per)} bucket and entity"),
            new("PUT", "/" + hourly, PlainIndex(new JsonObject
            {
                ["keyabuse.entity"] = Type("keyword"),
                ["keyabuse.hour"] = Type("date"),
                ["keyabuse.metric"] = Type("double"),
                [Updated] = Type("date"),
            }), $"{name}: the busiest bucket of each hour per entity"),
            new("PUT", "/" + baseline, LookupIndex(new JsonObject
            {
                ["keyabuse.lookup_key"] = Type("keyword"),
                ["keyabuse.history.value"] = Type("double"),
                ["keyabuse.history.samples"] = Type("long"),
                ["keyabuse.history.last_hour"] = Type("date"),
                ["keyabuse_percentile"] = new JsonObject { ["type"] = "object", ["enabled"] = false },
            }), $"{name}: the statistic of hourly peaks per entity and slot"),
            .. ElasticSetupRequest.Transform($"{name}-buckets", Transform(
                $"KeyAbuseContent {name}: the metric per bucket and entity",
                Source(rule, b.Where, null, new JsonObject { ["keyabuse.entity"] = Runtime("keyword", entityScript) }),
                new JsonObject
                {
                    ["keyabuse.entity"] = Terms("keyabuse.entity"),
                    ["keyabuse.bucket"] = new JsonObject { ["date_histogram"] = new JsonObject { ["field"] = "@timestamp", ["fixed_interval"] = KqlRenderer.Span(b.Syntax.Metric.Per) } },
                },
                new JsonObject { ["keyabuse.value"] = metric },
                buckets, "@timestamp", "keyabuse.bucket", h.Length + TimeSpan.FromDays(1), "1m", stamp: true), $"{name}: keeps {buckets}"),
            .. ElasticSetupRequest.Transform($"{name}-hourly", Transform(
                $"KeyAbuseContent {name}: the busiest bucket of each hour",
                new JsonObject { ["index"] = new JsonArray(buckets) },
                new JsonObject
                {
                    ["keyabuse.entity"] = Terms("keyabuse.entity"),
                    ["keyabuse.hour"] = new JsonObject { ["date_histogram"] = new JsonObject { ["field"] = "keyabuse.bucket", ["fixed_interval"] = "1h" } },
                },
                new JsonObject { ["keyabuse.metric"] = Agg("max", "keyabuse.value") },
                hourly, Updated, "keyabuse.hour", h.Length, "5m", stamp: true), $"{name}: keeps {hourly}"),
            .. ElasticSetupRequest.Transform($"{name}-baseline", Transform(
                $"KeyAbuseContent {name}: the {h.Statistic.ToString().ToLowerInvariant()} of hourly peaks per entity and slot over {KqlRenderer.Span(h.Length)}",
                new JsonObject
                {
                    ["index"] = new JsonArray(hourly),
                    ["query"] = recent,
                    ["runtime_mappings"] = new JsonObject { ["keyabuse.lookup_key"] = Runtime("keyword", slotScript.ToString().TrimEnd()) },
                },
                new JsonObject { ["keyabuse.lookup_key"] = Terms("keyabuse.lookup_key") },
                statistic,
                baseline, Updated, "keyabuse.history.last_hour", h.Length + TimeSpan.FromDays(1), "1h", stamp: false), $"{name}: keeps {baseline}"),
        ];
    }
}
