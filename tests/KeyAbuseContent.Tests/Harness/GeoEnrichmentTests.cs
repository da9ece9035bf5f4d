using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Tables;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Validation.Kql;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// A dataset's <c>geo.csv</c> enriches addresses as each platform would: Sentinel's activity parser looks the
/// KeyAbuseGeo watchlist up, Elastic's pipelines run the keyabuse-geo enrich policy at ingest.
/// </summary>
public sealed class GeoEnrichmentTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "keyabuse-geo-" + Guid.NewGuid().ToString("N"));

    public GeoEnrichmentTests()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "raw"));
        File.WriteAllText(Path.Combine(_folder, "geo.csv"), "network,country,asn\n198.51.100.0/24,BR,64511\n203.0.113.0/24,US,64500\n2001:db8:100::/48,NL,64512\n");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private const string Event = """{"time":"2026-11-30T10:00:00Z","key_id":"k1","client_ip":"198.51.100.9","status":200,"input_tokens":10,"output_tokens":5,"request_id":"r1"}""";

    private static string LiteLlm(string id, string address) =>
        $$$"""{"id":"{{{id}}}","call_type":"acompletion","status":"success","custom_llm_provider":"openai","prompt_tokens":900,"completion_tokens":120,"total_tokens":1020,"startTime":1795528800.0,"endTime":1795528801.25,"model":"gpt-4o-mini","requester_ip_address":"{{{address}}}","metadata":{"user_api_key_hash":"k-{{{id}}}","user_api_key_team_alias":"support"}}""";

    private Dataset Load(string[] events, string[] litellm)
    {
        File.WriteAllText(Path.Combine(_folder, "events.jsonl"), string.Join("\n", events) + "\n");
        File.WriteAllText(Path.Combine(_folder, "raw", "litellm.jsonl"), string.Join("\n", litellm) + "\n");
        return DatasetLoader.Load(_folder);
    }

    /// <summary>KeyAbuseActivity() on Sentinel: key, country and AS of each row, by key.</summary>
    private static List<object?[]> SentinelActivity(Dataset dataset)
    {
        var tables = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var t in SentinelParsers.Tables)
        {
            tables[t.Name] = new DataTable(t.Name, [.. t.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        foreach (var t in SentinelTableSchemas.Load(Path.Combine(TestPaths.Detections, "reference", "sentinel-tables")))
        {
            tables[t.Name] = new DataTable(t.Name, [.. t.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        foreach (var (name, table) in RawTables.Sentinel(dataset))
        {
            tables[name] = table;
        }
        tables[SentinelParsers.ActivityTable] = TargetTables.SentinelActivity(dataset);
        tables[TargetTables.WatchlistTable] = TargetTables.SentinelWatchlist(dataset);
        tables[TargetTables.GeoWatchlistTable] = TargetTables.SentinelGeoWatchlist(dataset);
        var functions = SentinelParsers.Functions.Select(f => new KqlFunction(f.Name, [], f.Body))
            .Append(new KqlFunction("_GetWatchlist", [("watchlistAlias", "string")], TargetTables.GetWatchlistBody)).ToList();
        return [.. new KqlEngine().Execute("KeyAbuseActivity() | project KeyId, SrcGeoCountry, SrcAsn | sort by KeyId asc", tables, functions, dataset.Span!.Value.Last).Table.Rows];
    }

    /// <summary>The activity on Elastic (the pack's index and the vendor streams): key, country and AS, by key.</summary>
    private static List<object?[]> ElasticActivity(Dataset dataset)
    {
        var tables = new List<DataTable> { TargetTables.ElasticActivity(dataset) };
        var (indices, problems) = RawTables.Elastic(dataset);
        Assert.Empty(problems);
        tables.Add(indices[RawSources.LiteLlm.ElasticDataStream]);
        string[] fields = ["keyabuse.key.id", "source.geo.country_iso_code", "source.as.number"];
        return [.. tables.SelectMany(t => t.Rows.Select(r => fields.Select(f => r[t.IndexOf(f)]).ToArray()))
            .OrderBy(r => (string)r[0]!, StringComparer.Ordinal)];
    }

    [Fact]
    public void SentinelFillsAVendorRecordsCountryAndAsnFromTheWatchlist()
    {
        var dataset = Load([], [LiteLlm("a", "198.51.100.7"), LiteLlm("b", "192.0.2.1")]);
        Assert.Equal([["k-a", "BR", 64511L], ["k-b", "", null]], SentinelActivity(dataset));
    }

    [Fact]
    public void ElasticFillsAVendorRecordsCountryAndAsnAtIngest()
    {
        var dataset = Load([], [LiteLlm("a", "198.51.100.7"), LiteLlm("b", "192.0.2.1")]);
        Assert.Equal([["k-a", "BR", 64511L], ["k-b", null, null]], ElasticActivity(dataset));
    }

    [Fact]
    public void BothTargetsFillANormalizedEventThatLacksThemAndKeepOneThatCarriesThem()
    {
        var carried = Event.Replace("\"r1\"", "\"r2\",\"country\":\"DE\",\"asn\":3320", StringComparison.Ordinal).Replace("\"k1\"", "\"k2\"", StringComparison.Ordinal);
        var dataset = Load([Event, carried], []);
        Assert.Equal([["k1", "BR", 64511L], ["k2", "DE", 3320L]], SentinelActivity(dataset));
        Assert.Equal([["k1", "BR", 64511L], ["k2", "DE", 3320L]], ElasticActivity(dataset));
    }

    [Fact]
    public void SentinelFillsAnIpv6VendorRecordFromAnIpv6Range()
    {
        var dataset = Load([], [LiteLlm("a", "2001:db8:100::7"), LiteLlm("b", "2001:db8:999::1")]);
        Assert.Equal([["k-a", "NL", 64512L], ["k-b", "", null]], SentinelActivity(dataset));
    }

    [Fact]
    public void ElasticFillsAnIpv6VendorRecordFromAnIpv6Range()
    {
        var dataset = Load([], [LiteLlm("a", "2001:db8:100::7"), LiteLlm("b", "2001:db8:999::1")]);
        Assert.Equal([["k-a", "NL", 64512L], ["k-b", null, null]], ElasticActivity(dataset));
    }

    [Fact]
    public void BothTargetsFillAnIpv6NormalizedEventBesideAnIpv4One()
    {
        var v6 = Event.Replace("\"198.51.100.9\"", "\"2001:db8:100:0:0:0:0:42\"", StringComparison.Ordinal)
            .Replace("\"r1\"", "\"r6\"", StringComparison.Ordinal).Replace("\"k1\"", "\"k6\"", StringComparison.Ordinal);
        var dataset = Load([Event, v6], []);
        Assert.Equal([["k1", "BR", 64511L], ["k6", "NL", 64512L]], SentinelActivity(dataset));
        Assert.Equal([["k1", "BR", 64511L], ["k6", "NL", 64512L]], ElasticActivity(dataset));
    }

    private const string CloudTrail = """{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dana","accessKeyId":"AKIAEXAMPLE0DANA0001"},"eventTime":"2026-11-30T10:00:00Z","eventSource":"bedrock.amazonaws.com","eventName":"ListFoundationModels","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","recipientAccountId":"111122223333"}""";

    private static string OpenAiAudit(string id, string address, string details) =>
        $$$"""{"id":"{{{id}}}","type":"api_key.created","effective_at":1795680180,"actor":{"type":"session","session":{"user":{"email":"dana@example.com"},{{{details}}}"ip_address":"{{{address}}}"}},"api_key.created":{"id":"key-{{{id}}}"}}""";

    /// <summary>A view on Sentinel (with the watchlists) and its source's stream on Elastic: key, country and AS of each row, by key.</summary>
    private (List<object?[]> Sentinel, List<object?[]> Elastic) View(SourceSchema view, RawSource raw, params string[] records)
    {
        File.WriteAllText(Path.Combine(_folder, "raw", raw.RawFile + ".jsonl"), string.Join("\n", records) + "\n");
        var dataset = DatasetLoader.Load(_folder);
        Assert.Empty(dataset.Problems);
        var tables = new Dictionary<string, DataTable>(StringComparer.Ordinal);
        foreach (var t in SentinelParsers.Tables)
        {
            tables[t.Name] = new DataTable(t.Name, [.. t.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        foreach (var t in SentinelTableSchemas.Load(Path.Combine(TestPaths.Detections, "reference", "sentinel-tables")))
        {
            tables[t.Name] = new DataTable(t.Name, [.. t.Columns.Select(c => new ColumnSchema(c.Name, c.Type))], []);
        }
        foreach (var (name, table) in RawTables.Sentinel(dataset))
        {
            tables[name] = table;
        }
        tables[TargetTables.WatchlistTable] = TargetTables.SentinelWatchlist(dataset);
        tables[TargetTables.GeoWatchlistTable] = TargetTables.SentinelGeoWatchlist(dataset);
        var functions = SentinelParsers.Functions.Select(f => new KqlFunction(f.Name, [], f.Body))
            .Append(new KqlFunction("_GetWatchlist", [("watchlistAlias", "string")], TargetTables.GetWatchlistBody)).ToList();
        string[] columns = [view.Field("key_id")!.Kql, view.Field("country")!.Kql, view.Field("asn")!.Kql];
        var sentinel = new KqlEngine().Execute($"{view.KqlFunction}() | project {string.Join(", ", columns)} | sort by {columns[0]} asc", tables, functions, dataset.Span!.Value.Last).Table.Rows.ToList();
        var (indices, problems) = RawTables.Elastic(dataset);
        Assert.Empty(problems);
        var index = indices[raw.ElasticDataStream];
        string[] fields = [view.Field("key_id")!.Esql, view.Field("country")!.Esql, view.Field("asn")!.Esql];
        var elastic = index.Rows.Select(r => fields.Select(f => r[index.IndexOf(f)]).ToArray()).OrderBy(r => (string)r[0]!, StringComparer.Ordinal).ToList();
        return (sentinel, elastic);
    }

    [Fact]
    public void BothTargetsFillAControlPlaneEventsCountryAndAsn()
    {
        var (sentinel, elastic) = View(Sources.ControlPlane, RawSources.BedrockCloudTrail, CloudTrail);
        Assert.Equal([["AKIAEXAMPLE0DANA0001", "BR", 64511L]], sentinel);
        Assert.Equal([["AKIAEXAMPLE0DANA0001", "BR", 64511L]], elastic);
    }

    [Fact]
    public void BothTargetsFillAnAuditEventThatLacksThemAndKeepWhatTheProviderGave()
    {
        var (sentinel, elastic) = View(Sources.Audit, RawSources.OpenAiAudit,
            OpenAiAudit("a", "203.0.113.5", ""),
            OpenAiAudit("b", "203.0.113.6", "\"ip_address_details\":{\"country\":\"CA\",\"asn\":\"64999\"},"));
        Assert.Equal([["key-a", "US", 64500L], ["key-b", "CA", 64999L]], sentinel);
        Assert.Equal([["key-a", "US", 64500L], ["key-b", "CA", 64999L]], elastic);
    }

    [Fact]
    public void TheEnrichProcessorLeavesADocumentWithoutTheFieldAlone()
    {
        var pipeline = new IngestPipeline("p", new JsonObject { ["processors"] = new JsonArray([.. ElasticGeo.Processors()]) }, new GeoEnrichment([]));
        var doc = new JsonObject { ["message"] = "x" };
        pipeline.Run(doc);
        Assert.Equal("""{"message":"x"}""", doc.ToJsonString());
    }

    [Fact]
    public void AnEnrichProcessorWithoutThePoliciesDataIsRefusedWhenBuilt()
    {
        var e = Assert.Throws<NotSupportedException>(() => new IngestPipeline("p", new JsonObject { ["processors"] = new JsonArray([.. ElasticGeo.Processors()]) }));
        Assert.Contains("keyabuse-geo", e.Message, StringComparison.Ordinal);
    }
    private static GeoRange Range(string network, int prefix, string country) => new(System.Net.IPAddress.Parse(network), prefix, country, 64500);

    [Fact]
    public void FindGivesTheRangeHoldingAnAddressFromItsFirstToItsLastAddressAndNoneBetweenRanges()
    {
        var geo = new GeoEnrichment([Range("203.0.113.0", 24, "US"), Range("10.0.0.0", 8, "ZZ"), Range("198.51.100.128", 25, "DE"), Range("2001:db8::", 32, "V6")]);

        string[] addresses = ["203.0.113.0", "203.0.113.255", "198.51.100.127", "198.51.100.128", "10.255.255.255", "9.255.255.255", "204.0.0.1", "2001:db8::1", "not an address"];

        var found = string.Join(" ", addresses.Select(a => geo.Find(a)?.Country ?? "-"));

        Assert.Equal("US US - DE ZZ - - V6 -", found);
    }

    [Fact]
    public void FindWithOverlappingRangesGivesTheFirstInOrder()
    {
        var geo = new GeoEnrichment([Range("10.1.0.0", 16, "INNER"), Range("10.0.0.0", 8, "OUTER")]);

        Assert.Equal(("INNER", "OUTER"), (geo.Find("10.1.2.3")?.Country, geo.Find("10.2.0.1")?.Country));
    }
}
