using System.Text.Json;
using System.Text.RegularExpressions;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;

namespace KeyAbuseContent.Tests.Engine.Esql;

/// <summary>
/// The ES|QL rules the generator publishes (the golden Kibana rule files), and small indices with the fields
/// of <c>Rules/Sources.cs</c> and of the lookup indices <c>Targets/Elastic/ElasticHistory.cs</c> writes.
/// </summary>
internal static partial class GeneratedRules
{
    public sealed record ElasticRule(string File, string Name, string Query, TimeSpan Lookback);

    public static IEnumerable<ElasticRule> All()
    {
        foreach (var set in new[] { "library", "kinds" })
        {
            var folder = Path.Combine(TestPaths.Golden, set, "elastic", "rules");
            foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
            {
                using var json = JsonDocument.Parse(File.ReadAllText(file));
                var root = json.RootElement;
                yield return new ElasticRule($"{set}/{Path.GetFileName(file)}", Path.GetFileNameWithoutExtension(file), root.GetProperty("query").GetString()!, Lookback(root.GetProperty("from").GetString()!));
            }
        }
    }

    public static ElasticRule Rule(string name) => All().Single(r => r.Name == name);

    /// <summary>Kibana's <c>from</c>, <c>now-5m</c>, as the window the rule reads.</summary>
    private static TimeSpan Lookback(string from)
    {
        var match = LookbackPattern().Match(from);
        Assert.True(match.Success, $"unexpected from [{from}]");
        var n = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            _ => TimeSpan.FromDays(n),
        };
    }

    /// <summary>The lookup indices a query joins.</summary>
    public static IEnumerable<string> LookupIndices(string query) => LookupPattern().Matches(query).Select(m => m.Groups[1].Value).Distinct();

    /// <summary>The columns of the query's final KEEP.</summary>
    public static string[] KeptColumns(string query) =>
        query.Split('\n').Last(l => l.StartsWith("| KEEP ", StringComparison.Ordinal))["| KEEP ".Length..].Split(", ");

    /// <summary>Runs a rule; every rule joins the inventory for its alerts' route fields, so an empty inventory stands in when a test gives none.</summary>
    public static EsqlResult Run(ElasticRule rule, DateTime now, params DataTable[] tables)
    {
        var indices = tables.ToDictionary(t => t.Name);
        indices.TryAdd("keyabuse-inventory", LookupIndex("keyabuse-inventory"));
        return new EsqlEngine().Execute(rule.Query, indices, now, (now - rule.Lookback, now));
    }

    public static readonly string[] Activity =
    [
        "@timestamp:date", "keyabuse.key.id:keyword", "service.name:keyword", "service.environment:keyword", "source.ip:ip",
        "source.geo.country_iso_code:keyword", "source.as.number:long", "user_agent.original:keyword", "gen_ai.provider.name:keyword",
        "gen_ai.request.model:keyword", "gen_ai.operation.name:keyword", "gen_ai.usage.input_tokens:long", "gen_ai.usage.output_tokens:long",
        "http.response.status_code:long", "keyabuse.latency_ms:double", "keyabuse.cost_usd:double", "http.request.id:keyword",
    ];

    public static readonly string[] ControlPlane =
    [
        "@timestamp:date", "cloud.provider:keyword", "event.provider:keyword", "event.action:keyword", "user.name:keyword",
        "aws.cloudtrail.user_identity.access_key_id:keyword", "cloud.account.id:keyword", "cloud.region:keyword", "source.ip:ip",
        "user_agent.original:keyword", "event.outcome:keyword", "error.code:keyword", "gen_ai.request.model:keyword",
    ];

    public static readonly string[] Logs =
    [
        "@timestamp:date", "host.name:keyword", "log.file.path:keyword", "keyabuse.ci.pipeline:keyword", "keyabuse.ci.repository:keyword", "message:keyword",
    ];

    public static readonly string[] Inventory =
    [
        "@timestamp:date", "keyabuse.key.id:keyword", "keyabuse.key.provider:keyword", "keyabuse.key.owner:keyword", "keyabuse.key.team:keyword",
        "keyabuse.key.service:keyword", "keyabuse.key.env:keyword", "keyabuse.key.oncall_route:keyword", "keyabuse.key.created:date",
        "keyabuse.key.expires:date", "keyabuse.key.rotated:date", "keyabuse.key.last_used:date", "keyabuse.key.models:keyword",
        "keyabuse.key.operations:keyword", "keyabuse.key.countries:keyword", "keyabuse.key.cidrs:keyword",
        "keyabuse.key.tuning.floor_scale:double", "keyabuse.key.tuning.min_ratio:double",
    ];

    public static readonly string[] Baseline = ["keyabuse.lookup_key:keyword", "keyabuse.history.value:double", "keyabuse.history.samples:long", "keyabuse.history.last_hour:date"];

    public static readonly string[] KnownValues = ["keyabuse.lookup_key:keyword", "keyabuse.history.first_seen:date", "keyabuse.history.last_seen:date"];

    public static readonly string[] KnownEntities = ["keyabuse.entity_key:keyword", "keyabuse.entity_history.first_seen:date", "keyabuse.entity_history.last_seen:date"];

    /// <summary>A table whose rows name their fields; fields a row leaves out are null.</summary>
    public static DataTable Index(string name, string[] columns, params Dictionary<string, object?>[] rows)
    {
        var schema = columns.Select(c => c.Split(':')).Select(p => new ColumnSchema(p[0], p[1])).ToList();
        foreach (var row in rows)
        {
            var unknown = row.Keys.Where(k => !schema.Any(c => c.Name == k)).ToList();
            Assert.True(unknown.Count == 0, $"no column {string.Join(", ", unknown)} in {name}");
        }
        return new DataTable(name, schema, [.. rows.Select(r => schema.Select(c => r.GetValueOrDefault(c.Name)).ToArray())]);
    }

    /// <summary>The lookup index of a name, with the columns its kind has.</summary>
    public static DataTable LookupIndex(string name, params Dictionary<string, object?>[] rows) => Index(name, name switch
    {
        _ when name.StartsWith("keyabuse-baseline-", StringComparison.Ordinal) => Baseline,
        _ when name.StartsWith("keyabuse-known-values-", StringComparison.Ordinal) => KnownValues,
        _ when name.StartsWith("keyabuse-known-entities-", StringComparison.Ordinal) => KnownEntities,
        "keyabuse-inventory" => Inventory,
        _ => throw new InvalidOperationException($"no lookup index kind for {name}"),
    }, rows);

    [GeneratedRegex(@"^now-(\d+)([smhd])$")]
    private static partial Regex LookbackPattern();

    [GeneratedRegex(@"LOOKUP JOIN (\S+) ON")]
    private static partial Regex LookupPattern();
}
