using System.Text.Json.Nodes;

namespace KeyAbuseContent.Coverage;

/// <summary>
/// ATT&amp;CK Navigator layers (layer format 4.5) of a coverage report: one for ATT&amp;CK Enterprise and one
/// for ATLAS (its Navigator's <c>atlas-atlas</c> domain over ATLAS's STIX collection). A technique's score
/// is the number of tested rules tagging it; its comment names every rule tagging it and how it stands.
/// </summary>
public static class NavigatorLayer
{
    /// <summary>The ATT&amp;CK release of <c>detections/reference</c> (v18.1).</summary>
    public const string AttackVersion = "18";

    /// <summary>The ATLAS data release of <c>detections/reference</c>.</summary>
    public const string AtlasVersion = "5.6.0";

    public const string NavigatorVersion = "5.1.0";
    public const string LayerVersion = "4.5";
    public const string AtlasCollection = "https://raw.githubusercontent.com/mitre-atlas/atlas-navigator-data/main/dist/stix-atlas.json";

    public static JsonObject Attack(CoverageReport report) => Layer(
        "KeyAbuseContent: ATT&CK coverage",
        "Techniques the KeyAbuseContent rules tag; score = rules whose tests pass on Sentinel and Elastic.",
        "enterprise-attack",
        new JsonObject { ["attack"] = AttackVersion, ["navigator"] = NavigatorVersion, ["layer"] = LayerVersion },
        customData: null,
        report.Attack);

    public static JsonObject Atlas(CoverageReport report) => Layer(
        "KeyAbuseContent: ATLAS coverage",
        "ATLAS techniques the KeyAbuseContent rules tag; score = rules whose tests pass on Sentinel and Elastic.",
        "atlas-atlas",
        new JsonObject { ["navigator"] = NavigatorVersion, ["layer"] = LayerVersion },
        customData: AtlasCollection,
        report.Atlas);

    private static JsonObject Layer(string name, string description, string domain, JsonObject versions, string? customData, IReadOnlyList<TechniqueCoverage> techniques)
    {
        var entries = new JsonArray();
        var tagged = techniques.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        // A sub-technique shows only under an expanded parent: parents not tagged themselves are added, unscored, to expand.
        var parents = techniques.Select(t => Parent(t.Id)).OfType<string>().Where(p => !tagged.Contains(p)).Distinct(StringComparer.Ordinal);
        foreach (var parent in parents)
        {
            entries.Add(new JsonObject { ["techniqueID"] = parent, ["enabled"] = true, ["showSubtechniques"] = true });
        }
        foreach (var t in techniques)
        {
            var entry = new JsonObject
            {
                ["techniqueID"] = t.Id,
                ["score"] = t.Score,
                ["comment"] = string.Join("; ", t.Rules.Select(r => r.Tested ? $"{r.Name} (tested)" : r.Describe())),
                ["enabled"] = true,
            };
            if (techniques.Any(s => Parent(s.Id) == t.Id))
            {
                entry["showSubtechniques"] = true;
            }
            entry["metadata"] = new JsonArray([.. t.Rules.Select(r => (JsonNode)new JsonObject { ["name"] = "rule", ["value"] = r.Name })]);
            entries.Add(entry);
        }
        var sorted = new JsonArray([.. entries.Select(e => e!.DeepClone()).OrderBy(e => e!["techniqueID"]!.GetValue<string>(), StringComparer.Ordinal)]);
        var max = Math.Max(1, techniques.Count == 0 ? 0 : techniques.Max(t => t.Score));
        var layer = new JsonObject
        {
            ["name"] = name,
            ["versions"] = versions,
            ["domain"] = domain,
            ["description"] = description,
        };
        if (customData is not null)
        {
            layer["customDataURL"] = customData;
        }
        layer["sorting"] = 3;
        layer["layout"] = new JsonObject { ["layout"] = "side", ["showID"] = true, ["showName"] = true, ["expandedSubtechniques"] = "annotated" };
        layer["hideDisabled"] = false;
        layer["techniques"] = sorted;
        layer["gradient"] = new JsonObject { ["colors"] = new JsonArray("#ffffff", "#66b1ff"), ["minValue"] = 0, ["maxValue"] = max };
        layer["legendItems"] = new JsonArray(
            new JsonObject { ["label"] = "tagged, no tested rule", ["color"] = "#ffffff" },
            new JsonObject { ["label"] = $"{max} tested rule(s)", ["color"] = "#66b1ff" });
        layer["showTacticRowBackground"] = false;
        layer["selectTechniquesAcrossTactics"] = true;
        layer["selectSubtechniquesWithParent"] = false;
        layer["selectVisibleTechniques"] = false;
        layer["metadata"] = new JsonArray(new JsonObject { ["name"] = "generator", ["value"] = "keyabuse coverage" });
        return layer;
    }

    private static string? Parent(string id)
    {
        var dot = id.LastIndexOf('.');
        // ATT&CK T1496.004 -> T1496; ATLAS AML.T0010.001 -> AML.T0010 (AML.T0010 itself has one dot).
        var dots = id.Count(c => c == '.');
        var isSub = id.StartsWith("AML.", StringComparison.Ordinal) ? dots == 2 : dots == 1;
        return isSub ? id[..dot] : null;
    }
}
