using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Targets.Elastic;

namespace KeyAbuseContent.Build;

/// <summary>A rule as a release published it: its version on the pack and on Kibana, and its queries' fingerprints.</summary>
public sealed record ReleasedRule(string Name, Version Version, int KibanaVersion, RuleFingerprint Fingerprint);

/// <summary>A recorded release: <c>releases/x.y.z/report.json</c>, read back.</summary>
public sealed record PackRelease(Version Version, string ReportPath, ImmutableDictionary<string, ReleasedRule> Rules);

/// <summary>What happened to a rule between two releases.</summary>
public sealed record RuleChange(string Rule, string Change, ImmutableArray<string> Targets, Version? From, Version? To);

/// <summary>
/// The releases recorded under <c>releases/</c> (one folder a version, holding the bundle's report.json,
/// written by <c>make release</c>), the version check <c>validate</c> runs against the last one, and the
/// changelog a bundle carries.
/// </summary>
public static class ReleaseHistory
{
    /// <summary>The recorded releases, oldest first. Folders not named x.y.z are not releases; a report that does not read is an error.</summary>
    public static ImmutableArray<PackRelease> Load(string releasesDir, DiagnosticBag diagnostics)
    {
        if (!Directory.Exists(releasesDir))
        {
            return [];
        }
        var releases = new List<PackRelease>();
        foreach (var folder in Directory.GetDirectories(releasesDir))
        {
            if (PackVersion.Parse(Path.GetFileName(folder)) is not { } version)
            {
                continue;
            }
            var path = Path.Combine(folder, "report.json");
            var display = PathDisplay.Of(path);
            try
            {
                releases.Add(Read(version, path));
            }
            catch (Exception e) when (e is IOException or JsonException or FormatException or InvalidOperationException)
            {
                diagnostics.Error(new SourcePosition(display, 0, 0), null, DiagnosticCodes.Release, $"release {version}: {display} does not read as a release report ({e.Message})");
            }
        }
        return [.. releases.OrderBy(r => r.Version)];
    }

    private static PackRelease Read(Version version, string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException("not a JSON object");
        var rules = ImmutableDictionary.CreateBuilder<string, ReleasedRule>(StringComparer.Ordinal);
        foreach (var node in root["rules"] as JsonArray ?? throw new FormatException("no 'rules' list"))
        {
            var rule = node as JsonObject ?? throw new FormatException("a rule entry is not an object");
            var name = Text(rule, "name");
            var ruleVersion = PackVersion.Parse(Text(rule, "version")) ?? throw new FormatException($"rule {name}: version is not x.y.z");
            var fingerprints = rule["fingerprints"] as JsonObject ?? throw new FormatException($"rule {name}: no fingerprints");
            var kibana = rule["kibana_version"] is JsonValue k && k.TryGetValue<int>(out var kv) ? kv : throw new FormatException($"rule {name}: no kibana_version");
            rules[name] = new ReleasedRule(name, ruleVersion, kibana, new RuleFingerprint(Text(fingerprints, "sentinel"), Text(fingerprints, "elastic")));
        }
        return new PackRelease(version, path, rules.ToImmutable());
    }

    private static string Text(JsonObject o, string key) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new FormatException($"'{key}' is missing or not a string");

    /// <summary>The latest release, or the latest before <paramref name="before"/> when given.</summary>
    public static PackRelease? Latest(IEnumerable<PackRelease> releases, Version? before = null) =>
        releases.Where(r => before is null || r.Version < before).OrderBy(r => r.Version).LastOrDefault();

    /// <summary>
    /// A rule whose rendered query changed since <paramref name="last"/> must carry a higher version there
    /// (x.y.z, and so a higher Kibana integer); a version never goes down.
    /// </summary>
    public static void CheckVersions(IEnumerable<CompiledRule> rules, PackRelease last, DiagnosticBag diagnostics)
    {
        foreach (var compiled in rules)
        {
            var rule = compiled.Analyzed.Rule;
            if (!last.Rules.TryGetValue(rule.Name, out var released))
            {
                continue;
            }
            var version = new Version(rule.Version.Major, rule.Version.Minor, Math.Max(0, rule.Version.Build));
            if (version < released.Version)
            {
                diagnostics.Error(rule.At("version"), rule.Name, DiagnosticCodes.VersionNotRaised,
                    $"version: {version} is lower than {released.Version}, the version release {last.Version} published; versions never go down");
                continue;
            }
            var changed = Changed(RuleFingerprint.Of(compiled), released.Fingerprint);
            if (changed.IsEmpty)
            {
                continue;
            }
            var what = string.Join(" and ", changed.Select(t => t == "sentinel" ? "Sentinel (KQL)" : "Elastic (ES|QL)"));
            if (version <= released.Version)
            {
                diagnostics.Error(rule.At("version"), rule.Name, DiagnosticCodes.VersionNotRaised,
                    $"version: the rendered {what} query changed since release {last.Version}, which published version {released.Version}; raise version above {released.Version}");
            }
            else if (ElasticTarget.KibanaVersion(rule.Version) <= released.KibanaVersion)
            {
                diagnostics.Error(rule.At("version"), rule.Name, DiagnosticCodes.VersionNotRaised,
                    $"version: {version} maps to Kibana version {ElasticTarget.KibanaVersion(rule.Version)}, not above {released.KibanaVersion} of release {last.Version}; keep minor and patch below 100");
            }
        }
    }

    private static ImmutableArray<string> Changed(RuleFingerprint now, RuleFingerprint then)
    {
        var targets = ImmutableArray.CreateBuilder<string>();
        if (now.Sentinel != then.Sentinel)
        {
            targets.Add("sentinel");
        }
        if (now.Elastic != then.Elastic)
        {
            targets.Add("elastic");
        }
        return targets.ToImmutable();
    }

    /// <summary>The changes of <paramref name="rules"/> since <paramref name="previous"/> (every rule is added when there is none).</summary>
    public static ImmutableArray<RuleChange> Changes(IEnumerable<CompiledRule> rules, PackRelease? previous)
    {
        var changes = new List<RuleChange>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var compiled in rules)
        {
            var rule = compiled.Analyzed.Rule;
            names.Add(rule.Name);
            var version = new Version(rule.Version.Major, rule.Version.Minor, Math.Max(0, rule.Version.Build));
            if (previous is null || !previous.Rules.TryGetValue(rule.Name, out var released))
            {
                changes.Add(new RuleChange(rule.Name, "added", ["sentinel", "elastic"], null, version));
                continue;
            }
            var changed = Changed(RuleFingerprint.Of(compiled), released.Fingerprint);
            if (!changed.IsEmpty)
            {
                changes.Add(new RuleChange(rule.Name, "query changed", changed, released.Version, version));
            }
            else if (version != released.Version)
            {
                changes.Add(new RuleChange(rule.Name, "version raised, query unchanged", [], released.Version, version));
            }
        }
        foreach (var gone in previous?.Rules.Values.Where(r => !names.Contains(r.Name)) ?? [])
        {
            changes.Add(new RuleChange(gone.Name, "removed", [], gone.Version, null));
        }
        return [.. changes.OrderBy(c => c.Rule, StringComparer.Ordinal)];
    }
}
