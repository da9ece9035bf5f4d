using System.Collections.Immutable;
using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Responder.Playback;

/// <summary>
/// Turns the playbacks of <c>keyabuse run --respond</c> into the <see cref="ResponseEvidence"/> the coverage gate
/// reads, fingerprinted like the rule tests' results, and decides whether evidence read back may be trusted.
/// </summary>
public static class ResponseEvidenceRecorder
{
    /// <summary>The evidence of one run: every containment call of each platform's playback, the holds its analyst dismissed, and its times per scenario.</summary>
    public static ResponseEvidence Record(PackBuild build, string datasetFolder, string confirmDelay, IEnumerable<PlaybackResult> playbacks)
    {
        var containments = ImmutableArray.CreateBuilder<ContainmentRecord>();
        var scenarios = ImmutableArray.CreateBuilder<ScenarioTimes>();
        var platforms = ImmutableArray.CreateBuilder<string>();
        var dismissals = ImmutableArray.CreateBuilder<DismissalRecord>();
        foreach (var playback in playbacks)
        {
            var platform = playback.Target == Target.Sentinel ? RuleTestResults.Sentinel : RuleTestResults.Elastic;
            platforms.Add(platform);
            containments.AddRange(Containments(platform, playback.Actions));
            dismissals.AddRange(playback.Dismissals.Select(d => new DismissalRecord(platform, d.Rule, d.KeyId, d.AlertAt, d.DismissedAt)));
            scenarios.AddRange(playback.Scenarios.Select(s => new ScenarioTimes(platform, s.Scenario, s.Attacks, s.Detected, s.Notified, s.Contained,
                Seconds(s.MeanTimeToDetect), Seconds(s.MeanTimeToNotify), Seconds(s.MeanTimeToRevoke))));
        }
        return new ResponseEvidence(Fingerprint(build, datasetFolder), datasetFolder.Replace('\\', '/'), confirmDelay, platforms.ToImmutable(), containments.ToImmutable(), scenarios.ToImmutable())
        {
            Dismissals = dismissals.ToImmutable(),
        };
    }

    /// <summary>
    /// The containment calls of a playback's action log. A call is held when it follows the analyst's
    /// confirmation of the same alert (the responder logs the confirmation, then the call).
    /// </summary>
    public static IEnumerable<ContainmentRecord> Containments(string platform, ImmutableArray<ActionRecord> actions)
    {
        for (var i = 0; i < actions.Length; i++)
        {
            var a = actions[i];
            if (a.Action != "contain" && !a.Action.StartsWith("contain.", StringComparison.Ordinal))
            {
                continue;
            }
            var parts = a.Action.Split('.');
            var provider = parts.Length > 1 ? parts[1] : "unknown";
            var action = parts.Length > 2 ? (parts[2] == "deactivate" ? "inactive" : parts[2]) : "contain";
            var held = i > 0 && actions[i - 1] is { Action: "confirm" } c && c.Rule == a.Rule && c.KeyId == a.KeyId;
            var outcome = a.Ok
                ? a.Attempts > 1 ? ContainmentRecord.Retried : ContainmentRecord.Accepted
                : a.Status is >= 400 and < 500 ? ContainmentRecord.Refused : ContainmentRecord.Failed;
            yield return new ContainmentRecord(platform, provider, action, outcome, a.Status, a.Attempts, held, a.Rule ?? "", a.KeyId ?? "", a.At.UtcDateTime);
        }
    }

    /// <summary>
    /// SHA-256 of what the evidence depends on: the builds of the generator, engine, harness and responder (their
    /// module version ids, which deterministic builds derive from the code and its embedded templates), every rule's
    /// file, every file of the bundle the library compiles to (queries, playbooks, connectors and actions), and the
    /// played dataset's input files.
    /// </summary>
    public static string Fingerprint(PackBuild build, string datasetFolder)
    {
        using var hash = new ContentHash();
        hash.Add(ResponseEvidenceFile.Format);
        hash.AddBuilds(typeof(CompiledRule).Assembly, typeof(PackRunner).Assembly, typeof(Engine.Esql.EsqlEngine).Assembly, typeof(AlertResponder).Assembly);
        foreach (var rule in build.Rules.OrderBy(r => r.Analyzed.Rule.Name, StringComparer.Ordinal))
        {
            var file = rule.Analyzed.Rule.File;
            hash.Add(rule.Analyzed.Rule.Name);
            hash.Add(File.Exists(file) ? File.ReadAllText(file) : file);
        }
        foreach (var (path, content) in PackWriter.Files(build))
        {
            hash.Add(path);
            hash.Add(content);
        }
        foreach (var file in DatasetFiles(datasetFolder))
        {
            hash.AddFile(file, Path.Combine(datasetFolder, file));
        }
        return hash.Hex();
    }

    /// <summary>The files of a dataset folder the loader reads (DESIGN.md's layout), relative, in order; what a run writes beside them is left out.</summary>
    public static IEnumerable<string> DatasetFiles(string folder)
    {
        string[] top = ["events.jsonl", "events.jsonl.gz", "inventory.yaml", "labels.json", "geo.csv", "geoip.mmdb", "asn.mmdb", "logs.jsonl"];
        var files = top.Where(f => File.Exists(Path.Combine(folder, f))).ToList();
        var raw = Path.Combine(folder, "raw");
        if (Directory.Exists(raw))
        {
            files.AddRange(Directory.GetFiles(raw, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')));
        }
        return files.Order(StringComparer.Ordinal);
    }

    /// <summary>
    /// Reads evidence for the gate and says whether it may be trusted: a missing or unreadable file, a dataset
    /// that is gone, or a fingerprint that no longer matches the library, the builds and the dataset is not
    /// trusted, with the reason.
    /// </summary>
    public static ResponseEvidenceInput Trust(string path, PackBuild build)
    {
        var again = $"run `keyabuse run --dataset DIR --respond --evidence {path}`";
        if (!File.Exists(path))
        {
            return ResponseEvidenceInput.Untrusted($"no response evidence: {path} does not exist ({again})");
        }
        ResponseEvidence evidence;
        try
        {
            evidence = ResponseEvidenceFile.Read(path);
        }
        catch (FormatException e)
        {
            return ResponseEvidenceInput.Untrusted(e.Message);
        }
        if (!Directory.Exists(evidence.Dataset))
        {
            return ResponseEvidenceInput.Untrusted($"stale response evidence: the dataset {evidence.Dataset} that {path} was recorded on no longer exists ({again})");
        }
        if (evidence.Fingerprint != Fingerprint(build, evidence.Dataset))
        {
            return ResponseEvidenceInput.Untrusted($"stale response evidence: {path} was recorded for another library, response content, build or dataset ({again})");
        }
        return ResponseEvidenceInput.Trusted(evidence);
    }

    private static double? Seconds(TimeSpan? t) => t is { } v ? Math.Round(v.TotalSeconds, 3) : null;
}
