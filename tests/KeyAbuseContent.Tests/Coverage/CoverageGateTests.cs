using KeyAbuseContent.Coverage;
using KeyAbuseContent.Tests.Support;
using static KeyAbuseContent.Tests.Coverage.CoverageFixtures;

namespace KeyAbuseContent.Tests.Coverage;

/// <summary>The gate of keyabuse coverage: what covers a threat or check, and what does not.</summary>
public class CoverageGateTests
{
    private const string IdA = "11111111-2222-4333-8444-555555555501";
    private const string IdB = "11111111-2222-4333-8444-555555555502";

    [Fact]
    public void TheGateFailsOnAThreatNoRuleNames()
    {
        using var library = new TestLibrary();
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA));
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(Passing("spike-rule"))), EvidenceThatHolds);
        Assert.False(report.Passed);
        var leak = Assert.Single(report.Threats, t => t.Entry.Id == "key-leaked-repo");
        Assert.False(leak.Satisfied);
        Assert.Equal("no rule names it", leak.Reason);
    }

    [Fact]
    public void AStableRulePassingOnBothTargetsCoversItsThreatAndTheGatePasses()
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA));
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(Passing("spike-rule"))), EvidenceThatHolds);
        Assert.True(report.Passed, string.Join("\n", report.Failures.Select(f => f.Entry.Id + ": " + f.Reason)));
    }

    [Fact]
    public void ARuleFailingOnElasticDoesNotCoverItsThreat()
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA));
        var failing = Passing("spike-rule");
        failing = failing with { Records = failing.Records.SetItem(1, Record("elastic", "ds/attack", false, true, null)) };
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(failing)), EvidenceThatHolds);
        var spike = Assert.Single(report.Threats, t => t.Entry.Id == "traffic-spike");
        Assert.False(spike.Satisfied);
        Assert.Equal("no stable rule passes on both targets: spike-rule (elastic fail)", spike.Reason);
    }

    [Fact]
    public void AnExperimentalRuleDoesNotCoverItsThreat()
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA).Replace("status: stable", "status: experimental", StringComparison.Ordinal));
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(Passing("spike-rule"))), EvidenceThatHolds);
        Assert.False(report.Threats.Single(t => t.Entry.Id == "traffic-spike").Satisfied);
    }

    [Fact]
    public void StaleResultsDoNotCount()
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA));
        var stale = Passing("spike-rule") with { Stale = true };
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(stale)), EvidenceThatHolds);
        var spike = report.Threats.Single(t => t.Entry.Id == "traffic-spike");
        Assert.False(spike.Satisfied);
        Assert.Contains("sentinel stale", spike.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ARuleWithoutResultsIsUntested()
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA));
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results()), EvidenceThatHolds);
        Assert.Equal("no stable rule passes on both targets: spike-rule (sentinel untested, elastic untested)", report.Threats.Single(t => t.Entry.Id == "traffic-spike").Reason);
    }

    [Fact]
    public void ARuleNamingAnEvidenceCheckDoesNotSatisfyIt()
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike, quota-clamp", IdA));
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(Passing("spike-rule"))), NoResponse);
        var clamp = report.Threats.Single(t => t.Entry.Id == "quota-clamp");
        Assert.Equal("spike-rule", Assert.Single(clamp.Rules).Name);
        Assert.False(clamp.Satisfied);
    }

    [Fact]
    public void TimeToDetectFailsWhenAPositiveTestOnALabelledDatasetMeasuredNone()
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA));
        var unmeasured = Passing("spike-rule");
        unmeasured = unmeasured with { Records = unmeasured.Records.SetItem(0, Record("sentinel", "ds/attack", true, true, null)) };
        var verdict = new TimeToDetectEvidence(ResponseEvidenceInput.Trusted(HoldingResponse)).Evaluate(new CoverageInputs(Load(library), Results(unmeasured)));
        Assert.False(verdict.Satisfied);
        Assert.Contains("spike-rule on sentinel, ds/attack", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TechniquesAreScoredByTestedRulesOnly()
    {
        using var library = new TestLibrary();
        library.Rule("volume/rule-a.yaml", StableRule("rule-a", "traffic-spike", IdA, "[attack.t1496.004, owasp.llm10]"));
        library.Rule("volume/rule-b.yaml", StableRule("rule-b", "traffic-spike", IdB, "[attack.t1496.004, owasp.llm10]"));
        var report = CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(Passing("rule-a"))), EvidenceThatHolds);
        var technique = Assert.Single(report.Attack);
        Assert.Equal(("T1496.004", 1, 2), (technique.Id, technique.Score, technique.Rules.Length));
    }
}
