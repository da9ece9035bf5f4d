using System.Text.Json.Nodes;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>
/// Country and AS of a request's source address on Elastic, at ingest: a <c>range</c> enrich policy over an index
/// of address ranges (a dataset's <c>geo.csv</c>: network in CIDR notation, ISO country code, AS number; ranges must not
/// overlap), and the processors that copy its match into <c>source.geo.country_iso_code</c> and
/// <c>source.as.number</c> where the record has none. Every raw source whose view carries country and AS (activity,
/// control plane, audit: <see cref="SourceSchema.Enriched"/>) runs them at the end of its pipeline; the pack's own
/// activity and audit streams get them from the <see cref="Pipeline"/> their shipper names. An <c>ip_range</c> field
/// holds IPv4 and IPv6 ranges alike, so IPv6 addresses are enriched from IPv6 ranges.
/// </summary>
public static class ElasticGeo
{
    /// <summary>The index of address ranges the enrich policy reads.</summary>
    public const string Index = "keyabuse-geo";

    /// <summary>The enrich policy (executed again after the ranges change).</summary>
    public const string Policy = "keyabuse-geo";

    /// <summary>The pipeline that enriches normalized activity documents shipped as they are.</summary>
    public const string Pipeline = "keyabuse-activity-geo";

    /// <summary>Where the enrich processor puts the matching range while the pipeline runs.</summary>
    public const string TargetField = "keyabuse.geo";

    /// <summary>The setup calls: the ranges index, the policy and its first execution, and the activity pipeline.</summary>
    public static IEnumerable<ElasticSetupRequest> Requests()
    {
        yield return new ElasticSetupRequest("PUT", "/" + Index, new JsonObject
        {
            ["mappings"] = new JsonObject
            {
                ["dynamic"] = "strict",
                ["properties"] = new JsonObject
                {
                    ["network"] = new JsonObject { ["type"] = "ip_range" },
                    ["country"] = new JsonObject { ["type"] = "keyword" },
                    ["asn"] = new JsonObject { ["type"] = "long" },
                },
            },
        }, "address ranges with their ISO country code and AS number, one document a range ({\"network\":\"203.0.113.0/24\",\"country\":\"US\",\"asn\":64500}), non-overlapping");
        yield return new ElasticSetupRequest("PUT", "/_enrich/policy/" + Policy, new JsonObject
        {
            ["range"] = new JsonObject
            {
                ["indices"] = Index,
                ["match_field"] = "network",
                ["enrich_fields"] = new JsonArray("country", "asn"),
            },
        }, "matches a source address to the range that holds it");
        yield return new ElasticSetupRequest("POST", $"/_enrich/policy/{Policy}/_execute", null,
            $"builds the policy's enrich index: call it again whenever {Index} changes, or the pipelines keep the old ranges");
        yield return new ElasticSetupRequest("PUT", "/_ingest/pipeline/" + Pipeline, new JsonObject
        {
            ["description"] = "KeyAbuseContent: fills source.geo.country_iso_code and source.as.number of normalized activity and audit events from the keyabuse-geo address ranges where the event has none.",
            ["processors"] = new JsonArray([.. Processors()]),
        }, "enriches the pack's own normalized events: ship them to logs-keyabuse.activity-* and logs-keyabuse.audit-* with this pipeline");
    }

    /// <summary>The processors that enrich a document's source address, leaving values the record has.</summary>
    public static IEnumerable<JsonObject> Processors()
    {
        var address = Sources.Activity.Field("client_ip")!.Esql;
        yield return ElasticIngestPipelines.Processor("enrich", new JsonObject
        {
            ["policy_name"] = Policy,
            ["field"] = address,
            ["target_field"] = TargetField,
            ["ignore_missing"] = true,
        });
        foreach (var (field, from) in new[] { ("country", "country"), ("asn", "asn") })
        {
            // ignore_empty_value: when the address matched no range there is nothing to copy, and the set does nothing.
            yield return ElasticIngestPipelines.Processor("set", new JsonObject
            {
                ["field"] = Sources.Activity.Field(field)!.Esql,
                ["copy_from"] = TargetField + "." + from,
                ["override"] = false,
                ["ignore_empty_value"] = true,
            });
        }
        yield return ElasticIngestPipelines.Processor("remove", new JsonObject { ["field"] = TargetField, ["ignore_missing"] = true });
    }
}
