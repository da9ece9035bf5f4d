using System.Collections.Immutable;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Rules;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Coverage;

/// <summary>Rule libraries and recorded test results for the coverage tests, without running the harness.</summary>
internal static class CoverageFixtures
{
    /// <summary>A stable rule covering <paramref name="threat"/>, named <paramref name="name"/>.</summary>
    public static string StableRule(string name, string threat, string id, string tags = "[attack.t1110, atlas.aml.t0055, owasp.llm10]") =>
        RuleText.Threshold(name: name, id: id, tags: tags)
            .Replace("status: experimental", "status: stable", StringComparison.Ordinal)
            .Replace("threats: [stolen-key-other-network]", $"threats: [{threat}]", StringComparison.Ordinal)
            .Replace("tests: []", """
                tests:
                  - dataset: ds/attack
                    expect: [{key_id: k1, from: "2026-11-30T00:00:00Z", to: "2026-11-30T01:00:00Z", min: 1}]
                  - dataset: ds/benign
                    expect: []
                """, StringComparison.Ordinal);

    /// <summary>The (empty) datasets the stable rules' tests name, so a build finds them.</summary>
    public static void Datasets(TestLibrary library)
    {
        library.Dataset("ds/attack");
        library.Dataset("ds/benign");
    }

    public static RuleLibrary Load(TestLibrary library)
    {
        var loaded = RuleLoader.Load(library.RulesDir);
        Assert.DoesNotContain(loaded.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        return loaded;
    }

    /// <summary>A threat model of one threat and the two checks the gate judges by evidence.</summary>
    public static void SmallThreatModel(TestLibrary library) => File.WriteAllText(Path.Combine(library.RulesDir, "threat-model.yaml"), """
        threats:
          - id: traffic-spike
            title: Traffic spike
            description: Volume far above the key's own pattern.
        checks:
          - id: time-to-detect
            title: Time to detect and to revoke are measured
          - id: quota-clamp
            title: Quota clamp or disable on confirmation
        """);

    /// <summary>Results of a rule that passed a positive and a negative test on both targets, detecting its labelled attack in 2 minutes.</summary>
    public static RuleTestResults Passing(string rule) => new(rule, "fingerprint", [
        Record("sentinel", "ds/attack", true, true, 120),
        Record("elastic", "ds/attack", true, true, 120),
        Record("parity", "ds/attack", true, true, null),
        Record("sentinel", "ds/benign", true, false, null),
        Record("elastic", "ds/benign", true, false, null),
        Record("parity", "ds/benign", true, false, null),
    ]);

    public static TestRecord Record(string check, string dataset, bool passed, bool positive, double? ttd) =>
        new(check, dataset, passed, positive, positive && check != "parity" ? 1 : 0, 0, positive && check != "parity" ? 1 : 0, ttd is null ? 0 : 1, ttd, passed ? [] : ["expected at least 1 alert(s), got 0"]);

    /// <summary>A containment call of spike-rule on key k1.</summary>
    public static ContainmentRecord Containment(string platform, string provider, string action, string outcome, bool held) =>
        new(platform, provider, action, outcome, outcome == ContainmentRecord.Failed ? null : 200, 1, held, "spike-rule", "k1", new DateTime(2026, 11, 30, 0, 20, 0, DateTimeKind.Utc));

    /// <summary>
    /// Response evidence that satisfies both checks: on each platform a LiteLLM clamp and an OpenAI deletion after
    /// confirmation, accepted, and one scenario detected in 5 minutes, notified then, revoked in 20.
    /// </summary>
    public static ResponseEvidence HoldingResponse { get; } = new("fingerprint", "TestResults/simulated", "15m", ["sentinel", "elastic"],
        [.. new[] { "sentinel", "elastic" }.SelectMany(p => new[]
        {
            Containment(p, "litellm", "clamp", ContainmentRecord.Accepted, held: false),
            Containment(p, "openai", "delete", ContainmentRecord.Accepted, held: true),
        })],
        [.. new[] { "sentinel", "elastic" }.Select(p => new ScenarioTimes(p, "volume-burst", 1, 1, 1, 1, 300, 300, 1200))]);

    /// <summary>Evidence that holds for both checks.</summary>
    public static ImmutableArray<ICheckEvidence> EvidenceThatHolds { get; } = CheckGates.For(ResponseEvidenceInput.Trusted(HoldingResponse));

    /// <summary>The checks when no response evidence was recorded.</summary>
    public static ImmutableArray<ICheckEvidence> NoResponse { get; } = CheckGates.For(ResponseEvidenceInput.Untrusted("no response evidence: TestResults/response.json does not exist"));

    public static IReadOnlyDictionary<string, RuleTestResults> Results(params RuleTestResults[] results) =>
        results.ToDictionary(r => r.Rule, StringComparer.Ordinal);
}
