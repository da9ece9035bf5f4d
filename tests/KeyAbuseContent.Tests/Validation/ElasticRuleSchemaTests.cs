using System.Text.Json.Nodes;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Validation;

namespace KeyAbuseContent.Tests.Validation;

public class ElasticRuleSchemaTests
{
    private const string ValidJson = """
        {
          "rule_id": "6f0c3f0e-3a4e-4b8f-9a55-1f6a2b0c9d10",
          "name": "API key used from a new country",
          "description": "An API key was used from a country it has not been used from in the last 14 days.",
          "risk_score": 47,
          "severity": "medium",
          "type": "esql",
          "language": "esql",
          "query": "FROM logs-* | STATS requests = COUNT(*) BY user.name",
          "from": "now-10m",
          "interval": "5m",
          "max_signals": 100,
          "enabled": true,
          "version": 1,
          "author": ["KeyAbuseContent"],
          "license": "Apache-2.0",
          "tags": ["Domain: Cloud", "Tactic: Credential Access"],
          "references": ["https://attack.mitre.org/techniques/T1078/004/"],
          "threat": [
            {
              "framework": "MITRE ATT&CK",
              "tactic": { "id": "TA0006", "name": "Credential Access", "reference": "https://attack.mitre.org/tactics/TA0006/" },
              "technique": [
                {
                  "id": "T1078",
                  "name": "Valid Accounts",
                  "reference": "https://attack.mitre.org/techniques/T1078/",
                  "subtechnique": [
                    { "id": "T1078.004", "name": "Cloud Accounts", "reference": "https://attack.mitre.org/techniques/T1078/004/" }
                  ]
                }
              ]
            }
          ],
          "required_fields": [{ "name": "user.name", "type": "keyword", "ecs": true }],
          "related_integrations": [{ "package": "azure", "version": "^1.0.0", "integration": "activitylogs" }],
          "setup": "",
          "note": "## Triage\nCheck the key's owner.",
          "false_positives": ["A user travelling."],
          "timestamp_override": "event.ingested",
          "alert_suppression": {
            "group_by": ["user.name"],
            "duration": { "value": 1, "unit": "h" },
            "missing_fields_strategy": "suppress"
          }
        }
        """;

    private static ElasticRule Rule(Action<JsonObject>? change = null)
    {
        var document = JsonNode.Parse(ValidJson)!.AsObject();
        change?.Invoke(document);
        return new ElasticRule(document["rule_id"]!.GetValue<string>(), document["name"]?.GetValue<string>() ?? "", document);
    }

    [Fact]
    public void ValidRuleHasNoProblems()
    {
        Assert.Empty(ElasticRuleSchema.Check(Rule()));
    }

    [Fact]
    public void RuleWithoutOptionalFieldsHasNoProblems()
    {
        Assert.Empty(ElasticRuleSchema.Check(Rule(d =>
        {
            d.Remove("timestamp_override");
            d.Remove("alert_suppression");
        })));
    }

    [Fact]
    public void MissingRiskScoreIsNamed()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d.Remove("risk_score"))));
        Assert.Equal("/risk_score: required field is missing", problem);
    }

    [Fact]
    public void UnknownTopLevelFieldIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["index"] = new JsonArray("logs-*"))));
        Assert.Equal("/index: unknown field", problem);
    }

    [Fact]
    public void RiskScoreOver100IsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["risk_score"] = 101)));
        Assert.StartsWith("/risk_score: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownSeverityIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["severity"] = "informational")));
        Assert.Equal("/severity: value \"informational\" is not one of \"low\", \"medium\", \"high\", \"critical\"", problem);
    }

    [Fact]
    public void KueryLanguageIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["language"] = "kuery")));
        Assert.Equal("/language: value \"kuery\" should be \"esql\"", problem);
    }

    [Fact]
    public void EmptyNameIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["name"] = "")));
        Assert.StartsWith("/name: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void IntervalInDaysIsRefused()
    {
        // Kibana's RuleSchedule takes s, m or h only.
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["interval"] = "1d")));
        Assert.StartsWith("/interval: value \"1d\" does not match the pattern", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void FromThatIsNotDateMathIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["from"] = "10m")));
        Assert.StartsWith("/from: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroMaxSignalsIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["max_signals"] = 0)));
        Assert.StartsWith("/max_signals: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void StringVersionIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["version"] = "1")));
        Assert.StartsWith("/version: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ReferenceThatIsNotAUriIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["references"] = new JsonArray("see the wiki"))));
        Assert.Equal("/references/0: value \"see the wiki\" is not a valid uri", problem);
    }

    [Fact]
    public void ThreatTacticWithoutReferenceIsNamed()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["threat"]![0]!["tactic"]!.AsObject().Remove("reference"))));
        Assert.Equal("/threat/0/tactic/reference: required field is missing", problem);
    }

    [Fact]
    public void ThreatFrameworkOtherThanAttackIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["threat"]![0]!["framework"] = "MITRE ATLAS")));
        Assert.StartsWith("/threat/0/framework: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void SubtechniqueIdWithoutParentIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["threat"]![0]!["technique"]![0]!["subtechnique"]![0]!["id"] = "004")));
        Assert.StartsWith("/threat/0/technique/0/subtechnique/0/id: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void RequiredFieldWithoutTypeIsNamed()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["required_fields"]![0]!.AsObject().Remove("type"))));
        Assert.Equal("/required_fields/0/type: required field is missing", problem);
    }

    [Fact]
    public void RelatedIntegrationWithoutVersionIsNamed()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["related_integrations"]![0]!.AsObject().Remove("version"))));
        Assert.Equal("/related_integrations/0/version: required field is missing", problem);
    }

    [Fact]
    public void SuppressionDurationInDaysIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["alert_suppression"]!["duration"]!["unit"] = "d")));
        Assert.StartsWith("/alert_suppression/duration/unit: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void SuppressionByFourFieldsIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["alert_suppression"]!["group_by"] = new JsonArray("a", "b", "c", "d"))));
        Assert.StartsWith("/alert_suppression/group_by: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownSuppressionStrategyIsRefused()
    {
        var problem = Assert.Single(ElasticRuleSchema.Check(Rule(d => d["alert_suppression"]!["missing_fields_strategy"] = "drop")));
        Assert.StartsWith("/alert_suppression/missing_fields_strategy: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryProblemIsReportedAtOnce()
    {
        var problems = ElasticRuleSchema.Check(Rule(d =>
        {
            d.Remove("risk_score");
            d["severity"] = "severe";
            d["extra"] = 1;
        }));

        Assert.Equal(3, problems.Count);
    }
}
