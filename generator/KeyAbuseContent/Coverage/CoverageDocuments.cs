using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Templates;

namespace KeyAbuseContent.Coverage;

/// <summary>A coverage report as documents: Markdown tables, JSON, and the two Navigator layers, by file name.</summary>
public static class CoverageDocuments
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Every coverage artifact by its file name: coverage.md, coverage.json, attack-navigator.json, atlas-navigator.json.</summary>
    public static SortedDictionary<string, string> Files(CoverageReport report) => new(StringComparer.Ordinal)
    {
        ["coverage.md"] = Markdown(report),
        ["coverage.json"] = Json(report).ToJsonString(Indented) + "\n",
        ["attack-navigator.json"] = NavigatorLayer.Attack(report).ToJsonString(Indented) + "\n",
        ["atlas-navigator.json"] = NavigatorLayer.Atlas(report).ToJsonString(Indented) + "\n",
    };

    /// <summary>Both layers in one file, as the Navigator saves several open layers (a list).</summary>
    public static string NavigatorList(CoverageReport report) =>
        new JsonArray(NavigatorLayer.Attack(report), NavigatorLayer.Atlas(report)).ToJsonString(Indented) + "\n";

    public static string Markdown(CoverageReport report) => DocumentTemplates.Render("coverage.md.scriban", new
    {
        Passed = report.Passed,
        FailureCount = report.Failures.Count(),
        Threats = report.Threats.Select(t => new
        {
            t.Entry.Id,
            t.Entry.Title,
            Kind = t.Entry.IsCheck ? "check" : "threat",
            Rules = t.Rules.IsEmpty ? "-" : string.Join(", ", t.Rules.Select(r => $"`{r.Name}`")),
            Verdict = t.Satisfied ? "covered" : "**NOT COVERED**",
            Reason = Cell(t.Reason),
        }).ToList(),
        RuleGate = CheckGates.RuleGate,
        Evidence = string.Join(" and ", report.Threats.Where(t => t.Gate != CheckGates.RuleGate).Select(t => $"`{t.Entry.Id}`")),
        Rules = report.Rules.Select(r => new
        {
            r.Name,
            Status = r.Status.ToString().ToLowerInvariant(),
            Sentinel = RuleCoverage.Word(r.Sentinel),
            Elastic = RuleCoverage.Word(r.Elastic),
            Parity = r.Parity ? "holds" : "fails",
        }).ToList(),
        Attack = report.Attack.Select(Technique).ToList(),
        Atlas = report.Atlas.Select(Technique).ToList(),
        Owasp = report.Owasp.Select(o => new
        {
            o.Id,
            o.Name,
            Rules = o.Rules.IsEmpty ? "-" : string.Join(", ", o.Rules.Select(r => $"`{r.Name}`")),
            o.Tested,
        }).ToList(),
    });

    private static object Technique(TechniqueCoverage t) => new
    {
        t.Id,
        t.Name,
        Tactics = string.Join(", ", t.Tactics),
        Rules = string.Join(", ", t.Rules.Select(r => $"`{r.Name}`")),
        t.Score,
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    public static JsonObject Json(CoverageReport report)
    {
        static JsonArray Names(IEnumerable<RuleCoverage> rules) => new([.. rules.Select(r => (JsonNode)JsonValue.Create(r.Name))]);
        static JsonArray Tested(IEnumerable<RuleCoverage> rules) => Names(rules.Where(r => r.Tested));
        return new JsonObject
        {
            ["passed"] = report.Passed,
            ["threats"] = new JsonArray([.. report.Threats.Select(t => (JsonNode)new JsonObject
            {
                ["id"] = t.Entry.Id,
                ["kind"] = t.Entry.IsCheck ? "check" : "threat",
                ["title"] = t.Entry.Title,
                ["gate"] = t.Gate,
                ["rules"] = Names(t.Rules),
                ["satisfied"] = t.Satisfied,
                ["reason"] = t.Reason,
            })]),
            ["rules"] = new JsonArray([.. report.Rules.Select(r => (JsonNode)new JsonObject
            {
                ["name"] = r.Name,
                ["status"] = r.Status.ToString().ToLowerInvariant(),
                ["sentinel"] = RuleCoverage.Word(r.Sentinel),
                ["elastic"] = RuleCoverage.Word(r.Elastic),
                ["parity"] = r.Parity,
                ["counts"] = r.Counts,
            })]),
            ["attack"] = Techniques(report.Attack),
            ["atlas"] = Techniques(report.Atlas),
            ["owasp"] = new JsonArray([.. report.Owasp.Select(o => (JsonNode)new JsonObject
            {
                ["id"] = o.Id,
                ["name"] = o.Name,
                ["rules"] = Names(o.Rules),
                ["tested_rules"] = Tested(o.Rules),
            })]),
        };

        static JsonArray Techniques(IEnumerable<TechniqueCoverage> techniques) => new([.. techniques.Select(t => (JsonNode)new JsonObject
        {
            ["id"] = t.Id,
            ["name"] = t.Name,
            ["tactics"] = new JsonArray([.. t.Tactics.Select(x => (JsonNode)JsonValue.Create(x))]),
            ["rules"] = Names(t.Rules),
            ["score"] = t.Score,
        })]);
    }

    /// <summary>Seconds as minutes for tables: "4.0 min"; "-" when not measured.</summary>
    public static string Minutes(double? seconds) => seconds is { } s ? (s / 60).ToString("0.0", CultureInfo.InvariantCulture) + " min" : "-";
}
