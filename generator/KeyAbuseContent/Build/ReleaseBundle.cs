using System.Collections.Immutable;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Targets.Elastic;
using KeyAbuseContent.Templates;

namespace KeyAbuseContent.Build;

/// <summary>
/// Files a part of the pack adds to the release bundle beside the rules (the response content adds its
/// Sentinel playbooks under <c>sentinel/playbooks/</c> and its Elastic connectors under
/// <c>elastic/connectors/</c> here). A contribution never replaces a file of the bundle.
/// </summary>
public interface IBundleContribution
{
    /// <summary>Files by their path in the bundle.</summary>
    IEnumerable<KeyValuePair<string, string>> Files(PackBuild build);
}

/// <summary>Everything a release bundle is made of.</summary>
public sealed record BundleInputs(
    PackBuild Build,
    Version Version,
    IReadOnlyDictionary<string, RuleTestResults> Results,
    CoverageReport Coverage,
    PackRelease? Previous,
    ImmutableArray<IBundleContribution> Contributions);

/// <summary>
/// The release bundle <c>KeyAbuseContent-x.y.z.zip</c>: the built pack (sentinel/, elastic/, sigma/), the
/// coverage tables and Navigator layers (coverage/), REPORT.md and report.json (per rule its targets, test
/// results, time to detect and false alerts on its datasets; the coverage; the changes), and CHANGELOG.md.
/// The same inputs give the same bytes: entries sorted, one fixed timestamp, no clock or path in any file.
/// </summary>
public static class ReleaseBundle
{
    public const string ReportFormat = "keyabuse-release/1";

    /// <summary>Every entry's timestamp: the earliest a zip can hold, so the bytes never depend on the clock.</summary>
    public static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>What the response content adds; none yet (issue 16, part 3).</summary>
    public static ImmutableArray<IBundleContribution> DefaultContributions { get; } = [];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string FileName(Version version) => $"KeyAbuseContent-{version}.zip";

    /// <summary>The bundle's files by path. Every rule needs its test results; a contribution may not replace a file.</summary>
    public static SortedDictionary<string, string> Files(BundleInputs inputs)
    {
        var rules = inputs.Build.Rules.OrderBy(r => r.Analyzed.Rule.Name, StringComparer.Ordinal).ToList();
        var missing = rules.Where(r => !inputs.Results.ContainsKey(r.Analyzed.Rule.Name)).Select(r => r.Analyzed.Rule.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException("a bundle needs every rule's test results; none for " + string.Join(", ", missing));
        }
        var files = PackWriter.Files(inputs.Build);
        var buildReport = files["REPORT.md"];
        foreach (var (name, content) in CoverageDocuments.Files(inputs.Coverage))
        {
            files["coverage/" + name] = content;
        }
        var changes = ReleaseHistory.Changes(rules, inputs.Previous);
        files["CHANGELOG.md"] = Changelog(inputs.Version, inputs.Previous, changes);
        files["report.json"] = Report(inputs, rules, changes).ToJsonString(Indented) + "\n";
        files["REPORT.md"] = DocumentTemplates.Render("release-report.md.scriban", new
        {
            Version = inputs.Version.ToString(),
            Rules = rules.Select(r =>
            {
                var results = inputs.Results[r.Analyzed.Rule.Name];
                return new
                {
                    r.Analyzed.Rule.Name,
                    Version = r.Analyzed.Rule.Version.ToString(3),
                    Sentinel = RuleCoverage.Word(results.Verdict(RuleTestResults.Sentinel)),
                    Elastic = RuleCoverage.Word(results.Verdict(RuleTestResults.Elastic)),
                    Parity = results.ParityHolds ? "holds" : "fails",
                    MttdSentinel = CoverageDocuments.Minutes(results.MeanTimeToDetectSeconds(RuleTestResults.Sentinel)),
                    MttdElastic = CoverageDocuments.Minutes(results.MeanTimeToDetectSeconds(RuleTestResults.Elastic)),
                    FalseSentinel = results.FalseAlerts(RuleTestResults.Sentinel),
                    FalseElastic = results.FalseAlerts(RuleTestResults.Elastic),
                    Datasets = string.Join(", ", results.Records.Select(x => x.Dataset).Distinct(StringComparer.Ordinal)),
                };
            }).ToList(),
            BuildReport = StripTitle(buildReport),
            Changelog = StripTitle(files["CHANGELOG.md"]),
            Coverage = StripTitle(files["coverage/coverage.md"]),
        });
        foreach (var contribution in inputs.Contributions)
        {
            foreach (var (path, content) in contribution.Files(inputs.Build))
            {
                if (!files.TryAdd(path, content))
                {
                    throw new InvalidOperationException($"{contribution.GetType().Name} would replace the bundle's {path}");
                }
            }
        }
        return files;
    }

    private static string StripTitle(string markdown) =>
        markdown.StartsWith("# ", StringComparison.Ordinal) ? markdown[(markdown.IndexOf('\n', StringComparison.Ordinal) + 1)..].TrimStart('\n') : markdown;

    private static string Changelog(Version version, PackRelease? previous, ImmutableArray<RuleChange> changes)
    {
        var sb = new StringBuilder();
        sb.Append("# Changes in KeyAbuseContent ").Append(version).Append("\n\n");
        sb.Append(previous is null ? "The first recorded release: every rule is new.\n" : $"Since release {previous.Version}.\n");
        if (changes.IsEmpty)
        {
            sb.Append("\nNo rule changed.\n");
            return sb.ToString();
        }
        sb.Append("\n| rule | change | targets | version |\n|---|---|---|---|\n");
        foreach (var c in changes)
        {
            var versions = c.From is null ? c.To!.ToString() : c.To is null ? c.From.ToString() : $"{c.From} -> {c.To}";
            sb.Append(CultureInfo.InvariantCulture, $"| `{c.Rule}` | {c.Change} | {(c.Targets.IsEmpty ? "-" : string.Join(", ", c.Targets))} | {versions} |\n");
        }
        return sb.ToString();
    }

    private static JsonObject Report(BundleInputs inputs, List<CompiledRule> rules, ImmutableArray<RuleChange> changes)
    {
        static JsonNode? Number(double? value) => value is { } v ? JsonValue.Create(v) : null;
        var ruleNodes = new JsonArray();
        foreach (var r in rules)
        {
            var rule = r.Analyzed.Rule;
            var results = inputs.Results[rule.Name];
            var fingerprint = RuleFingerprint.Of(r);
            var targets = new JsonArray("sentinel", "elastic");
            if (r.Sigma.Yaml is not null)
            {
                targets.Add("sigma");
            }
            ruleNodes.Add(new JsonObject
            {
                ["name"] = rule.Name,
                ["id"] = rule.Id.ToString(),
                ["version"] = rule.Version.ToString(3),
                ["kibana_version"] = ElasticTarget.KibanaVersion(rule.Version),
                ["title"] = rule.Title,
                ["status"] = rule.Status.ToString().ToLowerInvariant(),
                ["severity"] = rule.Severity.ToString().ToLowerInvariant(),
                ["kind"] = rule.Detect.Kind,
                ["threats"] = new JsonArray([.. rule.Threats.Select(t => (JsonNode)JsonValue.Create(t))]),
                ["tags"] = new JsonArray([.. rule.Tags.Select(t => (JsonNode)JsonValue.Create(t.Text))]),
                ["targets"] = targets,
                ["fingerprints"] = new JsonObject { ["sentinel"] = fingerprint.Sentinel, ["elastic"] = fingerprint.Elastic },
                ["tests"] = new JsonObject
                {
                    ["sentinel"] = RuleCoverage.Word(results.Verdict(RuleTestResults.Sentinel)),
                    ["elastic"] = RuleCoverage.Word(results.Verdict(RuleTestResults.Elastic)),
                    ["parity"] = results.ParityHolds,
                    ["records"] = new JsonArray([.. results.Records.Select(t => (JsonNode)new JsonObject
                    {
                        ["check"] = t.Check,
                        ["dataset"] = t.Dataset,
                        ["passed"] = t.Passed,
                        ["positive"] = t.Positive,
                        ["alerts"] = t.Alerts,
                        ["false_alerts"] = t.FalseAlerts,
                        ["attacks"] = t.Attacks,
                        ["detected"] = t.Detected,
                        ["mean_time_to_detect_seconds"] = Number(t.MeanTimeToDetectSeconds),
                    })]),
                },
                ["mean_time_to_detect_seconds"] = new JsonObject
                {
                    ["sentinel"] = Number(results.MeanTimeToDetectSeconds(RuleTestResults.Sentinel)),
                    ["elastic"] = Number(results.MeanTimeToDetectSeconds(RuleTestResults.Elastic)),
                },
                ["false_alerts"] = new JsonObject
                {
                    ["sentinel"] = results.FalseAlerts(RuleTestResults.Sentinel),
                    ["elastic"] = results.FalseAlerts(RuleTestResults.Elastic),
                },
            });
        }
        return new JsonObject
        {
            ["format"] = ReportFormat,
            ["name"] = "KeyAbuseContent",
            ["version"] = inputs.Version.ToString(),
            ["previous_release"] = inputs.Previous?.Version.ToString(),
            ["rules"] = ruleNodes,
            ["coverage"] = CoverageDocuments.Json(inputs.Coverage),
            ["changes"] = new JsonArray([.. changes.Select(c => (JsonNode)new JsonObject
            {
                ["rule"] = c.Rule,
                ["change"] = c.Change,
                ["targets"] = new JsonArray([.. c.Targets.Select(t => (JsonNode)JsonValue.Create(t))]),
                ["from"] = c.From?.ToString(),
                ["to"] = c.To?.ToString(),
            })]),
        };
    }

    /// <summary>The zip of <paramref name="files"/>: entries in ordinal order, each with <see cref="EntryTime"/> and rw-r--r-- permissions.</summary>
    public static byte[] Zip(IReadOnlyDictionary<string, string> files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                var entry = zip.CreateEntry(path, CompressionLevel.Optimal);
                entry.LastWriteTime = EntryTime;
                entry.ExternalAttributes = Convert.ToInt32("100644", 8) << 16;
                using var stream = entry.Open();
                stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(content));
            }
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Writes the zip into <paramref name="outDir"/> (and its REPORT.md beside it, for reading without
    /// unzipping), each through a temporary file moved into place, so a failure never leaves half a bundle.
    /// </summary>
    public static string Write(SortedDictionary<string, string> files, Version version, string outDir)
    {
        var zip = Zip(files);
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, FileName(version));
        WriteAtomically(path, zip);
        WriteAtomically(Path.Combine(outDir, "REPORT.md"), Encoding.UTF8.GetBytes(files["REPORT.md"]));
        return path;
    }

    /// <summary>Writes <paramref name="bytes"/> to a temporary file beside <paramref name="path"/>, then moves it into place.</summary>
    public static void WriteAtomically(string path, byte[] bytes)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }
}
