using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyAbuseContent.Responder;

/// <summary>
/// An alert as the responder receives it: DESIGN.md's alert line (rule, key_id, severity, title, summary, time), with
/// the route fields the rules return (Sentinel's custom detail names, or the ECS-style names of Elastic's alerts).
/// </summary>
public sealed record IncomingAlert(string Rule, string KeyId, string Severity, string Title, string Summary, string Time, string? Owner, string? Team, string? Service, string? Route)
{
    /// <summary>One alert object, or <c>{"alerts": [...]}</c>; null with a reason when the body is not that.</summary>
    public static (ImmutableArray<IncomingAlert> Alerts, string? Problem) Parse(string body)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            return ([], "the body is not JSON: " + e.Message);
        }
        var items = root switch
        {
            // Kibana's webhook body closes its list of alerts with an empty object.
            JsonObject o when o["alerts"] is JsonArray a => a.OfType<JsonObject>().Where(x => x.Count > 0).ToList(),
            JsonObject o => [o],
            JsonArray a => a.OfType<JsonObject>().ToList(),
            _ => [],
        };
        var alerts = ImmutableArray.CreateBuilder<IncomingAlert>();
        foreach (var o in items)
        {
            var rule = Text(o, "rule", "kibana.alert.rule.name");
            var key = Text(o, "key_id", "keyabuse.key.id", "KeyId");
            if (rule is null || key is null)
            {
                return ([], "each alert names its rule and key_id");
            }
            alerts.Add(new IncomingAlert(rule, key,
                Text(o, "severity", "kibana.alert.severity") ?? "medium",
                Text(o, "title", "keyabuse.alert.title", "AlertTitle") ?? rule,
                Text(o, "summary", "keyabuse.alert.summary", "AlertSummary") ?? "",
                Text(o, "time", "@timestamp") ?? "",
                Text(o, "owner", "keyabuse.key.owner", "KeyOwner"),
                Text(o, "team", "keyabuse.key.team", "KeyTeam"),
                Text(o, "service", "keyabuse.key.service", "KeyService"),
                Text(o, "route", "keyabuse.key.oncall_route", "OncallRoute")));
        }
        return alerts.Count == 0 ? ([], "no alert in the body") : (alerts.ToImmutable(), null);
    }

    private static string? Text(JsonObject o, params string[] names)
    {
        foreach (var name in names)
        {
            if (o[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0)
            {
                return s;
            }
        }
        return null;
    }
}
