using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Harness.Tables;

/// <summary>
/// An Elasticsearch pivot transform run over documents, as Elasticsearch computes its buckets, for the shape the pack
/// ships for joins of raw sources: one <c>terms</c> group_by, and aggregations that are each a <c>filter</c>
/// (<c>term</c>, or <c>bool.filter</c> of <c>term</c>s) holding one <c>top_metrics</c> (its metrics' values on the
/// bucket's first or last document by a sort field). Anything else is refused when the transform is built, so the
/// harness never runs something other than what is shipped. The transform is run to completion over every document
/// (what its continuous checkpoints reach once the sync delay has passed).
/// </summary>
public sealed class PivotTransform
{
    private readonly string _groupField;
    private readonly ImmutableArray<Aggregation> _aggregations;

    private sealed record Aggregation(string Name, ImmutableArray<(string Field, JsonNode Value)> Terms, string Sub, ImmutableArray<string> Metrics, string SortField, bool Descending);

    public string Name { get; }

    public PivotTransform(string name, JsonObject definition)
    {
        Name = name;
        var pivot = definition["pivot"] as JsonObject ?? throw new NotSupportedException($"transform {name}: only pivot transforms are emulated");
        var groupBy = pivot["group_by"]!.AsObject();
        if (groupBy.Count != 1 || groupBy.First().Value!["terms"]?["field"] is not JsonValue field)
        {
            throw new NotSupportedException($"transform {name}: one terms group_by is emulated");
        }
        _groupField = field.GetValue<string>();
        var aggregations = ImmutableArray.CreateBuilder<Aggregation>();
        foreach (var (aggName, body) in pivot["aggregations"]!.AsObject())
        {
            var filter = body!["filter"] as JsonObject ?? throw new NotSupportedException($"transform {name}: aggregation {aggName} is not a filter");
            var subs = body["aggs"]!.AsObject();
            if (subs.Count != 1 || subs.First().Value!["top_metrics"] is not JsonObject top)
            {
                throw new NotSupportedException($"transform {name}: aggregation {aggName} holds one top_metrics");
            }
            var sort = top["sort"]!.AsObject().Single();
            aggregations.Add(new Aggregation(aggName, Terms(name, filter), subs.First().Key,
                [.. top["metrics"]!.AsArray().Select(m => m!["field"]!.GetValue<string>())], sort.Key, sort.Value!.GetValue<string>() == "desc"));
        }
        _aggregations = aggregations.ToImmutable();
    }

    private static ImmutableArray<(string, JsonNode)> Terms(string name, JsonObject filter)
    {
        IEnumerable<JsonObject> clauses = filter["bool"] is JsonObject b
            ? (b.Count == 1 && b["filter"] is JsonArray all ? all.Select(c => c!.AsObject()) : throw new NotSupportedException($"transform {name}: bool filters are emulated"))
            : [filter];
        return [.. clauses.Select(c => c["term"] is JsonObject t && t.Count == 1
            ? (t.First().Key, t.First().Value!.DeepClone())
            : throw new NotSupportedException($"transform {name}: only term filters are emulated"))];
    }

    /// <summary>One output document a bucket: the group key, and each aggregation's row of metrics (left out when no document passed its filter).</summary>
    public IEnumerable<JsonObject> Run(IEnumerable<JsonObject> documents)
    {
        var buckets = new SortedDictionary<string, List<JsonObject>>(StringComparer.Ordinal);
        foreach (var doc in documents)
        {
            // A document without the group field is in no bucket (terms leaves it out).
            if (IngestPipeline.Get(doc, _groupField) is JsonValue key && Text(key) is { Length: > 0 } k)
            {
                (buckets.TryGetValue(k, out var list) ? list : buckets[k] = []).Add(doc);
            }
        }
        foreach (var (key, docs) in buckets)
        {
            var output = new JsonObject { [_groupField] = key };
            foreach (var agg in _aggregations)
            {
                var passing = docs.Where(d => agg.Terms.All(t => IngestPipeline.Get(d, t.Field) is JsonValue v && Text(v) == Text(t.Value))).ToList();
                var sorted = passing.Where(d => IngestPipeline.Get(d, agg.SortField) is not null)
                    .OrderBy(d => Text(IngestPipeline.Get(d, agg.SortField)!), StringComparer.Ordinal).ToList();
                if (sorted.Count == 0)
                {
                    continue;
                }
                var top = agg.Descending ? sorted[^1] : sorted[0];
                var row = new JsonObject();
                foreach (var metric in agg.Metrics)
                {
                    row[metric] = IngestPipeline.Get(top, metric)?.DeepClone();
                }
                output[agg.Name] = new JsonObject { [agg.Sub] = row };
            }
            yield return output;
        }
    }

    private static string Text(JsonNode node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node.ToJsonString();
}
