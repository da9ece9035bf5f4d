using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyAbuseContent.Targets.Kql;

namespace KeyAbuseContent.Build;

/// <summary>
/// SHA-256 of what a rule publishes per target: on Sentinel the detection query and its summary rule and
/// refresh queries; on Elastic the ES|QL query and the setup requests (transforms, lookup indices) it reads.
/// A rule whose fingerprint differs from the last release's changed its rendered query.
/// </summary>
public sealed record RuleFingerprint(string Sentinel, string Elastic)
{
    public string Combined => Sentinel + ":" + Elastic;

    public static RuleFingerprint Of(CompiledRule rule)
    {
        var sentinel = new StringBuilder(rule.Sentinel.Rule.Query);
        foreach (var s in rule.Sentinel.Plan.SummaryRules)
        {
            sentinel.Append("\n--- ").Append(s.Name).Append('\n').Append(KqlRenderer.Render(s.Query));
        }
        foreach (var r in rule.Sentinel.Plan.Refreshes)
        {
            sentinel.Append("\n--- ").Append(r.Name).Append('\n').Append(KqlRenderer.Render(r.Query));
        }
        var elastic = new StringBuilder(rule.Elastic.Query.Text);
        foreach (var request in rule.Elastic.Setup)
        {
            elastic.Append('\n').Append(request.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        }
        return new RuleFingerprint(Sha256(sentinel.ToString()), Sha256(elastic.ToString()));
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
