using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;
using static KeyAbuseContent.Tests.Engine.Esql.GeneratedRules;
using Row = System.Collections.Generic.Dictionary<string, object?>;

namespace KeyAbuseContent.Tests.Engine.Esql;

/// <summary>Every ES|QL query the generator publishes parses and runs, over a little of every source it reads.</summary>
public class GeneratedQueryTests
{
    public static TheoryData<string> RuleFiles() => [.. All().Select(r => r.File)];

    [Fact]
    public void TheGoldenFilesHoldElasticRules() => Assert.True(All().Count() >= 14);

    [Theory]
    [MemberData(nameof(RuleFiles))]
    public void TheQueryParsesRunsAndKeepsItsColumns(string file)
    {
        var rule = All().Single(r => r.File == file);
        var tables = new List<DataTable>(Sources());
        tables.AddRange(LookupIndices(rule.Query).Where(n => n != "keyabuse-inventory").Select(n => LookupIndex(n)));
        var result = GeneratedRules.Run(rule, Now, [.. tables]);
        Assert.Equal(KeptColumns(rule.Query), result.Table.Columns.Select(c => c.Name));
        Assert.Empty(result.Warnings);
    }

    /// <summary>A few rows of every source, in the rule windows, none of them suspicious.</summary>
    private static IEnumerable<DataTable> Sources()
    {
        var t = Now.AddMinutes(-2);
        yield return Index("logs-keyabuse.activity-default", Activity,
            new Row { ["@timestamp"] = t, ["keyabuse.key.id"] = "k1", ["service.name"] = "chat", ["service.environment"] = "prod", ["source.ip"] = "203.0.113.5", ["source.geo.country_iso_code"] = "US", ["source.as.number"] = 64500L, ["user_agent.original"] = "app/1.0", ["gen_ai.request.model"] = "gpt-4o-mini", ["gen_ai.operation.name"] = "chat", ["gen_ai.usage.input_tokens"] = 100L, ["gen_ai.usage.output_tokens"] = 50L, ["http.response.status_code"] = 200L },
            new Row { ["@timestamp"] = t.AddSeconds(5), ["keyabuse.key.id"] = "k1", ["service.name"] = "chat", ["service.environment"] = "prod", ["source.ip"] = "203.0.113.5", ["gen_ai.operation.name"] = "models.list", ["http.response.status_code"] = 401L });
        yield return Index("logs-keyabuse.logs-default", Logs,
            new Row { ["@timestamp"] = t, ["host.name"] = "runner-1", ["log.file.path"] = "ci/build.log", ["message"] = "build ok" });
        yield return Index("logs-aws.cloudtrail-default", ControlPlane,
            new Row { ["@timestamp"] = t, ["cloud.provider"] = "aws", ["event.provider"] = "bedrock.amazonaws.com", ["event.action"] = "ListFoundationModels", ["user.name"] = "arn:aws:iam::1:user/dev", ["event.outcome"] = "success" });
        yield return Index("logs-azure.activitylogs-default", ControlPlane,
            new Row { ["@timestamp"] = t, ["cloud.provider"] = "azure", ["event.provider"] = "Microsoft.CognitiveServices", ["event.action"] = "ListKeys", ["user.name"] = "sp-1", ["event.outcome"] = "success" });
        yield return Index("keyabuse-inventory", Inventory,
            new Row { ["@timestamp"] = Now.AddHours(-1), ["keyabuse.key.id"] = "k1", ["keyabuse.key.owner"] = "dana@example.com", ["keyabuse.key.service"] = "chat", ["keyabuse.key.created"] = Time("2026-10-01T00:00:00Z"), ["keyabuse.key.expires"] = Time("2027-06-01T00:00:00Z"), ["keyabuse.key.rotated"] = Time("2026-11-01T00:00:00Z"), ["keyabuse.key.models"] = Many("gpt-4o-mini"), ["keyabuse.key.operations"] = Many("chat", "models.list") });
    }
}
