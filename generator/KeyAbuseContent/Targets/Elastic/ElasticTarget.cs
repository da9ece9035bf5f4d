using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Expressions;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Targets.Esql;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>A rule compiled for Elastic: the Kibana rule, its ES|QL plan and the stack version it needs.</summary>
public sealed record ElasticArtifact(ElasticRule Rule, EsqlRulePlan Plan, EsqlText Query, IReadOnlyList<ElasticSetupRequest> Setup);

/// <summary>A rule that cannot run on the targeted stack, and why.</summary>
public sealed class EsqlVersionException(string message) : Exception(message);

/// <summary>
/// Builds Elastic Security ES|QL rules in Kibana's import format from analyzed rules: risk score as
/// Elastic's prebuilt rules map it, MITRE threat structure, required fields, setup and triage notes.
/// </summary>
public static class ElasticTarget
{
    public static ElasticArtifact Build(AnalyzedRule analyzed, Vocabulary vocabulary)
    {
        var rule = analyzed.Rule;
        var plan = EsqlRuleCompiler.Compile(analyzed);
        var text = EsqlRenderer.Render(plan.Query);
        if (text.MinimumVersion > EsqlCapabilities.Target)
        {
            throw new EsqlVersionException($"the ES|QL query needs Elastic {text.MinimumVersion} ({string.Join(", ", text.Gates)}); the pack targets {EsqlCapabilities.Target}");
        }
        var severity = rule.Severity switch
        {
            Severity.Informational or Severity.Low => "low",
            Severity.Medium => "medium",
            Severity.High => "high",
            _ => "critical",
        };
        var doc = new JsonObject
        {
            ["rule_id"] = rule.Id.ToString(),
            ["name"] = rule.Title,
            ["description"] = rule.Description.Trim(),
            ["risk_score"] = RiskScore(rule.Severity),
            ["severity"] = severity,
            ["type"] = "esql",
            ["language"] = "esql",
            ["query"] = text.Text,
            ["from"] = "now-" + Span(rule.Schedule.Lookback),
            ["interval"] = Interval(rule.Schedule.Every),
            ["max_signals"] = 100,
            ["enabled"] = false,
            ["version"] = KibanaVersion(rule.Version),
            ["author"] = new JsonArray(rule.Author),
            ["license"] = "Apache-2.0",
            ["tags"] = Tags(analyzed, vocabulary),
            ["references"] = new JsonArray([.. rule.References.Select(r => (JsonNode)r)]),
            ["threat"] = Threat(rule, vocabulary),
            ["required_fields"] = RequiredFields(analyzed),
            ["related_integrations"] = new JsonArray(),
            ["setup"] = Setup(analyzed, plan, text),
            ["note"] = Note(analyzed),
            ["false_positives"] = new JsonArray([.. rule.FalsePositives.Select(f => (JsonNode)f)]),
        };
        if (analyzed.Entities.TryGetValue("key", out var key) && plan.Aggregates)
        {
            // One alert per key and rule within a run interval's multiple; later runs add to it instead of paging again.
            doc["alert_suppression"] = new JsonObject
            {
                ["group_by"] = new JsonArray(key.EsqlName),
                ["duration"] = new JsonObject { ["value"] = Math.Max(1, (int)Math.Ceiling(rule.Schedule.Every.TotalMinutes * 12 / 60)), ["unit"] = "h" },
                ["missing_fields_strategy"] = "suppress",
            };
        }
        return new ElasticArtifact(new ElasticRule(rule.Id.ToString(), rule.Title, doc), plan, text, ElasticHistory.For(analyzed));
    }

    /// <summary>Elastic's prebuilt rules: low 21, medium 47, high 73, critical 99.</summary>
    public static int RiskScore(Severity severity) => severity switch
    {
        Severity.Informational or Severity.Low => 21,
        Severity.Medium => 47,
        Severity.High => 73,
        _ => 99,
    };

    /// <summary>Kibana rule versions are integers; x.y.z maps monotonically to x*10000 + y*100 + z.</summary>
    public static int KibanaVersion(Version v) => (v.Major * 10000) + (Math.Min(v.Minor, 99) * 100) + Math.Min(Math.Max(v.Build, 0), 99);

    private static string Span(TimeSpan span) => Kql.KqlRenderer.Span(span);

    /// <summary>Kibana schedules take s, m or h; a day is 24h.</summary>
    private static string Interval(TimeSpan span) => span.Ticks % TimeSpan.TicksPerDay == 0 ? $"{span.Ticks / TimeSpan.TicksPerHour}h" : Span(span);

    private static JsonArray Tags(AnalyzedRule analyzed, Vocabulary vocabulary)
    {
        var rule = analyzed.Rule;
        var tags = new List<string> { "Domain: LLM", "Use Case: API Key Abuse", "Data Source: KeyAbuseContent " + Sources.Name(rule.Source), "Resources: Investigation Guide" };
        foreach (var t in rule.Tags)
        {
            switch (t.Framework)
            {
                case TagFramework.Attack:
                    tags.AddRange((vocabulary.Attack(t.Id)?.Tactics ?? []).Select(x => "Tactic: " + x));
                    break;
                case TagFramework.Atlas:
                    tags.Add("MITRE ATLAS: " + t.Id);
                    break;
                default:
                    tags.Add("OWASP LLM: " + t.Id[..5]);
                    break;
            }
        }
        return new JsonArray([.. tags.Distinct(StringComparer.Ordinal).Select(x => (JsonNode)x)]);
    }

    private static JsonArray Threat(Rule rule, Vocabulary vocabulary)
    {
        var result = new JsonArray();
        var techniques = rule.Tags.Where(t => t.Framework == TagFramework.Attack).Select(t => t.Id).ToList();
        var byTactic = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var id in techniques)
        {
            foreach (var tactic in vocabulary.Attack(id)?.Tactics ?? [])
            {
                if (!byTactic.TryGetValue(tactic, out var list))
                {
                    byTactic[tactic] = list = [];
                }
                list.Add(id);
            }
        }
        foreach (var (tactic, ids) in byTactic)
        {
            var tacticId = vocabulary.AttackTacticId(tactic) ?? tactic;
            var parents = ids.GroupBy(id => id.Split('.')[0]).OrderBy(g => g.Key, StringComparer.Ordinal);
            var techniqueArray = new JsonArray();
            foreach (var parent in parents)
            {
                var technique = new JsonObject
                {
                    ["id"] = parent.Key,
                    ["name"] = vocabulary.Attack(parent.Key)?.Name ?? parent.Key,
                    ["reference"] = $"https://attack.mitre.org/techniques/{parent.Key}/",
                };
                var subs = parent.Where(id => id.Contains('.', StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
                if (subs.Count > 0)
                {
                    technique["subtechnique"] = new JsonArray([.. subs.Select(s => (JsonNode)new JsonObject
                    {
                        ["id"] = s,
                        ["name"] = vocabulary.Attack(s)?.Name ?? s,
                        ["reference"] = $"https://attack.mitre.org/techniques/{s.Replace('.', '/')}/",
                    })]);
                }
                techniqueArray.Add(technique);
            }
            result.Add(new JsonObject
            {
                ["framework"] = "MITRE ATT&CK",
                ["tactic"] = new JsonObject { ["id"] = tacticId, ["name"] = tactic, ["reference"] = $"https://attack.mitre.org/tactics/{tacticId}/" },
                ["technique"] = techniqueArray,
            });
        }
        return result;
    }

    private static readonly HashSet<string> EcsFields = new(StringComparer.Ordinal)
    {
        "@timestamp", "service.name", "service.environment", "source.ip", "source.geo.country_iso_code", "source.as.number",
        "user_agent.original", "http.response.status_code", "http.request.id",
        "cloud.provider", "cloud.account.id", "cloud.region", "event.provider", "event.action", "event.outcome", "error.code",
        "user.name", "user.email", "host.name", "log.file.path", "message",
    };


    /// <summary>The source fields the query reads, with their types: what Kibana shows as the rule's required fields.</summary>
    private static JsonArray RequiredFields(AnalyzedRule analyzed)
    {
        var fields = new SortedDictionary<string, ExprType>(StringComparer.Ordinal);
        void Add(SourceField f)
        {
            if (f.Name == "tokens")
            {
                fields["gen_ai.usage.input_tokens"] = ExprType.Long;
                fields["gen_ai.usage.output_tokens"] = ExprType.Long;
            }
            else
            {
                fields[f.Esql] = f.Type;
            }
        }
        var source = analyzed.Source;
        foreach (var name in Mentioned(analyzed))
        {
            if (source.Field(name) is { } f)
            {
                Add(f);
            }
        }
        if (analyzed.Rule.Source != RuleSource.Inventory)
        {
            fields["@timestamp"] = ExprType.DateTime;
        }
        return new JsonArray([.. fields.Select(kv => (JsonNode)new JsonObject
        {
            ["name"] = kv.Key,
            ["type"] = ElasticIngestPipelines.EsType(kv.Value),
            ["ecs"] = EcsFields.Contains(kv.Key),
        })]);
    }

    private static IEnumerable<string> Mentioned(AnalyzedRule analyzed)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in analyzed.Detection.By)
        {
            names.Add(b.Name);
        }
        void Walk(Bound? b)
        {
            switch (b)
            {
                case null:
                    return;
                case BoundField f:
                    names.Add(f.Field.Name);
                    return;
                case BoundCompare c:
                    Walk(c.Left);
                    Walk(c.Right);
                    return;
                case BoundArithmetic a:
                    Walk(a.Left);
                    Walk(a.Right);
                    return;
                case BoundLogical l:
                    Walk(l.Left);
                    Walk(l.Right);
                    return;
                case BoundNot n:
                    Walk(n.Operand);
                    return;
                case BoundNegate n:
                    Walk(n.Operand);
                    return;
                case BoundIn i:
                    Walk(i.Value);
                    return;
                case BoundStringTest s:
                    Walk(s.Value);
                    return;
                case BoundMatches m:
                    Walk(m.Value);
                    return;
                case BoundCall c:
                    foreach (var a in c.Args)
                    {
                        Walk(a);
                    }
                    return;
                case BoundAggregate a:
                    Walk(a.Argument);
                    return;
            }
        }
        Walk(analyzed.Detection.Where);
        switch (analyzed.Detection)
        {
            case BoundThresholdDetection t:
                t.Aggregates.ToList().ForEach(a => Walk(a.Aggregate));
                break;
            case BoundBaselineDetection b when b.SumField is not null:
                names.Add(b.SumField.Name);
                break;
            case BoundNewValueDetection n:
                names.Add(n.Field.Name);
                Walk(n.NewWhere);
                n.Aggregates.ToList().ForEach(a => Walk(a.Aggregate));
                break;
            case BoundProfileDetection p:
                names.Add(p.Field.Name);
                names.Add("key_id");
                p.Aggregates.ToList().ForEach(a => Walk(a.Aggregate));
                break;
            case BoundSequenceDetection s:
                s.Steps.ToList().ForEach(st => Walk(st.Where));
                break;
        }
        return names;
    }

    private static string Setup(AnalyzedRule analyzed, EsqlRulePlan plan, EsqlText text)
    {
        var data = analyzed.Rule.Source switch
        {
            RuleSource.ControlPlane => "Events come from Elastic's AWS CloudTrail and Azure activity log integrations (`logs-aws.cloudtrail-*`, `logs-azure.activitylogs-*`); model calls need `gen_ai.request.model` set from the request's model id by an ingest pipeline.",
            RuleSource.Audit => "Events come from the KeyAbuseContent provider audit data stream (`logs-keyabuse.audit-*`): the pack's raw-line pipelines write it, and the `logs-azure_openai.logs@custom` pipeline the setup installs reroutes there the Audit rows of Elastic's Azure OpenAI integration, normalized.",
            RuleSource.Logs => "Log lines come from the KeyAbuseContent logs data stream (`logs-keyabuse.logs-*`): application and CI logs shipped with their host, file or job, and pipeline.",
            RuleSource.Inventory => "The key inventory is the lookup index `keyabuse-inventory`, one document a key, rewritten by the inventory sync.",
            _ => "Events come from the KeyAbuseContent activity data streams (`logs-keyabuse.activity-*`) and from the data streams of Elastic's Amazon Bedrock and Azure OpenAI integrations (`logs-aws_bedrock.invocation-*`, `logs-azure_openai.logs-*`), all normalized to ECS and OpenTelemetry GenAI fields: the pack's raw-line ingest pipelines write them, and for a cluster running those integrations the setup installs `logs-aws_bedrock.invocation@custom` and `logs-azure_openai.logs@custom`, which the integrations' default pipelines call at their end, with the normalized fields' mappings in the component templates of the same names (roll the data streams over once after setup).",
        };
        var lines = new List<string>
        {
            "## Setup",
            "",
            $"Requires Elastic Stack {text.MinimumVersion} or later" + (text.Gates.Count > 0 ? $" ({string.Join(", ", text.Gates)})." : "."),
            "",
            data,
        };
        foreach (var lookup in plan.Lookups)
        {
            lines.Add("");
            lines.Add($"The rule joins the lookup-mode index `{lookup.Index}` on `{lookup.JoinField}`: {lookup.Purpose}. Create it, and start the transforms that keep it current, with the requests of the bundle's `elastic/setup.ndjson` before enabling the rule.");
        }
        return string.Join('\n', lines);
    }

    private static string Note(AnalyzedRule analyzed)
    {
        var rule = analyzed.Rule;
        var lines = new List<string> { "## Triage and analysis", "", rule.Note?.Trim() ?? rule.Description.Trim(), "", "### False positive analysis", "" };
        lines.AddRange(rule.FalsePositives.Select(f => "- " + f));
        lines.Add("");
        lines.Add("### Fields of the alert");
        lines.Add("");
        lines.AddRange(analyzed.ResultColumns.Select(c => $"- `{c.EsqlName}`: {c.Name}"));
        return string.Join('\n', lines);
    }
}
