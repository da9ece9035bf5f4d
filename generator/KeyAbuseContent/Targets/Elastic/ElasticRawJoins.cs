using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>
/// A raw source joined with another table's rows (<see cref="RawJoin"/>: API Management's gateway rows and the
/// SequenceNumber 0 row of their LLM log) on Elastic. Ingest sees one document at a time, so each table's pipeline
/// writes its part to a staging data stream, and a continuous pivot transform groups both by the join key, keeping the
/// source's row and only the joined rows that pass the join's filter, into an index the activity rules read through an
/// alias named as the source's data stream. The transform's destination pipeline writes the normalized fields.
/// </summary>
public static class ElasticRawJoins
{
    /// <summary>The aggregation holding the source's own row in a transform bucket.</summary>
    public const string OwnAggregation = "keyabuse_own";

    /// <summary>The aggregation holding the joined row (the one that passes the filter) in a transform bucket.</summary>
    public const string JoinedAggregation = "keyabuse_joined";

    /// <summary>The top_metrics sub-aggregation under each.</summary>
    public const string Row = "row";

    /// <summary>Whether a table's pipeline writes a staging part of a join rather than normalized events.</summary>
    public static bool Staged(RawSource raw) => raw.Join is not null || !raw.Normalizes;

    /// <summary>The source whose join reads a table.</summary>
    public static RawSource JoinParent(RawSource raw) => raw.Join is not null ? raw : RawSources.All.First(s => s.Join?.Table == raw);

    /// <summary>The data stream a table's pipeline writes: the source's own, or a join's staging stream.</summary>
    public static string DataStream(RawSource raw) => !Staged(raw) ? raw.ElasticDataStream
        : raw.Join is not null ? $"logs-{raw.Dataset}-keyabuse" : raw.ElasticDataStream;

    /// <summary>The index the join's transform writes; the source's data stream name is its alias.</summary>
    public static string DestIndex(RawSource parent) => "keyabuse-joined-" + parent.Name.Replace('_', '-');

    /// <summary>The join's transform (and its destination pipeline) name.</summary>
    public static string TransformName(RawSource parent) => parent.ElasticPipeline + "-join";

    /// <summary>The field holding the join filter's column in the joined table's staging documents.</summary>
    public static string FilterField(RawJoin join) =>
        "keyabuse.join." + string.Concat(join.FilterPath.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static bool Reads(RawValue value, string prefix) =>
        ElasticIngestPipelines.Paths(value).Any(p => RawPaths.StartsWith(p, prefix));

    /// <summary>A source's fields read from its join's table (the others come from its own rows).</summary>
    public static ImmutableArray<(SourceField Field, RawValue Value)> JoinedFields(RawSource parent) =>
        [.. All(parent).Where(m => Reads(m.Value, parent.Join!.Prefix))];

    private static IEnumerable<(SourceField Field, RawValue Value)> All(RawSource raw) =>
        raw.Target.Fields.Where(f => f.Name is not ("time" or "tokens")).Select(f => (f, raw.Map(f.Name))).Where(m => m.Item2 is not null).Select(m => (m.f, m.Item2!));

    /// <summary>The join key's field: the source's field mapped from the join column.</summary>
    public static SourceField KeyField(RawSource parent) =>
        All(parent).First(m => m.Value is RawPath p && p.Path == parent.Join!.On).Field;

    /// <summary>
    /// What a table's pipeline maps: every mapped field for a plain source; a joined source's own fields; for a
    /// joined table, the source's fields read from it (paths without the prefix), the join key and the filter column.
    /// </summary>
    public static ImmutableArray<(SourceField Field, RawValue Value)> Mapped(RawSource raw)
    {
        if (raw.Join is { } join)
        {
            return [.. All(raw).Where(m => !Reads(m.Value, join.Prefix))];
        }
        if (raw.Normalizes)
        {
            return [.. All(raw)];
        }
        var parent = JoinParent(raw);
        var own = parent.Join!;
        var filter = raw.Columns.First(c => c.Path == own.FilterPath);
        var filterField = new SourceField("join_filter", filter.KqlType is "int" or "long" ? Expressions.ExprType.Long : Expressions.ExprType.String, filter.Column, FilterField(own), "the join filter's column");
        return
        [
            (KeyField(parent), new RawPath(own.On)),
            .. JoinedFields(parent).Select(m => (m.Field, Unprefixed(m.Value, own.Prefix))),
            (filterField, new RawPath(own.FilterPath)),
        ];
    }

    private static string Strip(string path, string prefix) => string.Join('.', RawPaths.Segments(path).Skip(RawPaths.Segments(prefix).Length));

    private static RawValue Unprefixed(RawValue value, string prefix) => value switch
    {
        RawPath p => p with { Path = Strip(p.Path, prefix) },
        RawLookup l => l with { Path = Strip(l.Path, prefix) },
        RawMaskedAddress m => m with { Path = Strip(m.Path, prefix) },
        RawFirst f => new RawFirst([.. f.Values.Select(v => Unprefixed(v, prefix))]),
        _ => value,
    };

    private static JsonObject Term(string field, JsonNode value) => new() { ["term"] = new JsonObject { [field] = value } };

    private static JsonObject TopMetrics(IEnumerable<string> fields) => new()
    {
        ["top_metrics"] = new JsonObject
        {
            ["metrics"] = new JsonArray([.. fields.Select(f => (JsonNode)new JsonObject { ["field"] = f })]),
            ["sort"] = new JsonObject { ["@timestamp"] = "asc" },
        },
    };

    /// <summary>
    /// The continuous pivot transform of a joined source: one bucket a join key over both staging streams; the
    /// source's row (its dataset) and the joined table's rows passing the filter (SequenceNumber 0), each as the
    /// earliest row's fields. Joined rows that fail the filter are never read, so their tokens are never counted.
    /// </summary>
    public static JsonObject Transform(RawSource parent)
    {
        var join = parent.Join!;
        var key = KeyField(parent).Esql;
        var own = Mapped(parent).Select(m => m.Field.Esql).Where(f => f != key).Prepend("@timestamp");
        var joined = JoinedFields(parent).Select(m => m.Field.Esql);
        var filterValue = Mapped(join.Table).Last().Field.Type == Expressions.ExprType.Long
            ? JsonValue.Create(long.Parse(join.FilterValue, System.Globalization.CultureInfo.InvariantCulture))
            : (JsonNode)JsonValue.Create(join.FilterValue);
        return new JsonObject
        {
            ["description"] = $"KeyAbuseContent: {parent.Description}, on {join.On}, the {join.Table.SentinelTable} rows of {join.FilterPath} {join.FilterValue} only, normalized as activity events",
            ["source"] = new JsonObject { ["index"] = new JsonArray(DataStream(parent), DataStream(join.Table)) },
            ["dest"] = new JsonObject { ["index"] = DestIndex(parent), ["pipeline"] = TransformName(parent) },
            ["frequency"] = "1m",
            ["sync"] = new JsonObject { ["time"] = new JsonObject { ["field"] = "@timestamp", ["delay"] = "60s" } },
            ["pivot"] = new JsonObject
            {
                ["group_by"] = new JsonObject { [key] = new JsonObject { ["terms"] = new JsonObject { ["field"] = key } } },
                ["aggregations"] = new JsonObject
                {
                    [OwnAggregation] = new JsonObject
                    {
                        ["filter"] = Term("event.dataset", parent.Dataset),
                        ["aggs"] = new JsonObject { [Row] = TopMetrics(own) },
                    },
                    [JoinedAggregation] = new JsonObject
                    {
                        ["filter"] = new JsonObject
                        {
                            ["bool"] = new JsonObject
                            {
                                ["filter"] = new JsonArray(Term("event.dataset", join.Table.Dataset), Term(FilterField(join), filterValue)),
                            },
                        },
                        ["aggs"] = new JsonObject { [Row] = TopMetrics(joined) },
                    },
                },
            },
        };
    }

    /// <summary>
    /// The transform's destination pipeline: the two rows' fields (top_metrics writes them under the aggregation,
    /// keyed by field name) moved to their normalized names, defaults set where the joined row is missing (a request
    /// that never reached the model has no tokens), the buckets removed.
    /// </summary>
    public static JsonObject DestPipeline(RawSource parent)
    {
        var processors = new JsonArray();
        var own = $"{OwnAggregation}.{Row}";
        var joined = $"{JoinedAggregation}.{Row}";
        processors.Add(ElasticIngestPipelines.Processor("dot_expander", new JsonObject { ["field"] = "*", ["path"] = own }));
        processors.Add(ElasticIngestPipelines.Processor("dot_expander", new JsonObject { ["field"] = "*", ["path"] = joined }));
        var key = KeyField(parent).Esql;
        foreach (var field in Mapped(parent).Select(m => m.Field.Esql).Where(f => f != key).Prepend("@timestamp"))
        {
            processors.Add(Move(own + "." + field, field));
        }
        foreach (var (field, value) in JoinedFields(parent))
        {
            processors.Add(Move(joined + "." + field.Esql, field.Esql));
            if (value is RawPath { Default: { } d })
            {
                processors.Add(ElasticIngestPipelines.Processor("set", new JsonObject { ["field"] = field.Esql, ["value"] = d, ["override"] = false }));
                processors.Add(ElasticIngestPipelines.Processor("convert", new JsonObject { ["field"] = field.Esql, ["type"] = ElasticIngestPipelines.EsType(field.Type), ["ignore_missing"] = true }));
            }
        }
        processors.Add(ElasticIngestPipelines.Processor("set", new JsonObject { ["field"] = "event.dataset", ["value"] = parent.Dataset }));
        if (parent.Feeds == RuleSource.Activity)
        {
            foreach (var p in ElasticGeo.Processors())
            {
                processors.Add(p);
            }
        }
        processors.Add(ElasticIngestPipelines.Processor("remove", new JsonObject { ["field"] = new JsonArray(OwnAggregation, JoinedAggregation), ["ignore_missing"] = true }));
        return new JsonObject
        {
            ["description"] = $"KeyAbuseContent: the {TransformName(parent)} transform's buckets as normalized activity events",
            ["processors"] = processors,
        };
    }

    private static JsonObject Move(string from, string to) =>
        ElasticIngestPipelines.Processor("set", new JsonObject { ["field"] = to, ["copy_from"] = from, ["ignore_empty_value"] = true });

    /// <summary>The setup of a joined source: the destination index (its alias the source's data stream), the destination pipeline, the transform.</summary>
    public static IEnumerable<ElasticSetupRequest> Requests(RawSource parent)
    {
        var properties = new JsonObject();
        foreach (var (field, type) in ElasticIngestPipelines.Mapping(parent))
        {
            properties[field] = new JsonObject { ["type"] = type };
        }
        yield return new ElasticSetupRequest("PUT", "/" + DestIndex(parent), new JsonObject
        {
            ["aliases"] = new JsonObject { [parent.ElasticDataStream] = new JsonObject() },
            ["mappings"] = new JsonObject { ["properties"] = properties },
        }, $"the joined {parent.Name} events, read by the activity rules through the alias {parent.ElasticDataStream}");
        yield return new ElasticSetupRequest("PUT", "/_ingest/pipeline/" + TransformName(parent), DestPipeline(parent),
            $"writes the {TransformName(parent)} transform's buckets as normalized activity events");
        foreach (var request in ElasticSetupRequest.Transform(TransformName(parent), Transform(parent),
            $"joins {parent.Name} rows with their {parent.Join!.Table.SentinelTable} rows into {DestIndex(parent)}"))
        {
            yield return request;
        }
    }
}
