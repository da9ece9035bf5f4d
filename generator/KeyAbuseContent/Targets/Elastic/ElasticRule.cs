using System.Text.Json.Nodes;

namespace KeyAbuseContent.Targets.Elastic;

/// <summary>An Elastic Security rule as Kibana's rule import reads it: one JSON object a line of the NDJSON.</summary>
public sealed record ElasticRule(string RuleId, string Name, JsonObject Document);
