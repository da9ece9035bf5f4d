using KeyAbuseContent.Coverage;
using KeyAbuseContent.Tests.Support;
using static KeyAbuseContent.Tests.Coverage.CoverageFixtures;

namespace KeyAbuseContent.Tests.Coverage;

/// <summary>The checks quota-clamp and time-to-detect judged on the response evidence of keyabuse run --respond.</summary>
public class ResponseEvidenceGateTests
{
    private const string IdA = "11111111-2222-4333-8444-555555555501";

    private static EvidenceVerdict Judge(ICheckEvidence check)
    {
        using var library = new TestLibrary();
        SmallThreatModel(library);
        library.Rule("volume/spike-rule.yaml", StableRule("spike-rule", "traffic-spike", IdA));
        return check.Evaluate(new CoverageInputs(Load(library), Results(Passing("spike-rule"))));
    }

    private static EvidenceVerdict Clamp(ResponseEvidence evidence) => Judge(new ContainmentEvidence(ResponseEvidenceInput.Trusted(evidence)));

    private static EvidenceVerdict Times(ResponseEvidence evidence) => Judge(new TimeToDetectEvidence(ResponseEvidenceInput.Trusted(evidence)));

    [Fact]
    public void QuotaClampIsCoveredByAcceptedContainmentsOnBothPlatforms()
    {
        var verdict = Clamp(HoldingResponse);
        Assert.True(verdict.Satisfied, verdict.Reason);
    }

    [Fact]
    public void QuotaClampIsNotCoveredWithoutResponseEvidence()
    {
        var verdict = Judge(new ContainmentEvidence(ResponseEvidenceInput.Untrusted("no response evidence: TestResults/response.json does not exist")));
        Assert.Equal((false, "no response evidence: TestResults/response.json does not exist"), (verdict.Satisfied, verdict.Reason));
    }

    [Fact]
    public void QuotaClampIsNotCoveredWhenAPlatformClampedOrDisabledNothing()
    {
        var verdict = Clamp(HoldingResponse with { Containments = [.. HoldingResponse.Containments.Where(c => c.Platform == "sentinel")] });
        Assert.False(verdict.Satisfied);
        Assert.Contains("no clamp or disable action accepted by a provider on elastic", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void QuotaClampIsNotCoveredWhenAProviderRefusedAContainment()
    {
        var refused = Containment("elastic", "anthropic", "inactive", ContainmentRecord.Refused, held: true) with { Status = 404 };
        var verdict = Clamp(HoldingResponse with { Containments = HoldingResponse.Containments.Add(refused) });
        Assert.False(verdict.Satisfied);
        Assert.Contains("containment not done: anthropic inactive of k1 for spike-rule on elastic: refused (HTTP 404)", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void QuotaClampIsNotCoveredWhenAContainmentFailed()
    {
        var failed = Containment("sentinel", "litellm", "clamp", ContainmentRecord.Failed, held: false) with { Status = 503, Attempts = 4 };
        var verdict = Clamp(HoldingResponse with { Containments = HoldingResponse.Containments.Add(failed) });
        Assert.False(verdict.Satisfied);
    }

    [Fact]
    public void QuotaClampCountsAContainmentAcceptedAfterRetries()
    {
        var retried = HoldingResponse with { Containments = [.. HoldingResponse.Containments.Select(c => c with { Outcome = ContainmentRecord.Retried, Attempts = 2 })] };
        Assert.True(Clamp(retried).Satisfied);
    }

    [Fact]
    public void QuotaClampIsNotCoveredWhenAKeyWasDeletedWithoutConfirmation()
    {
        var unconfirmed = Containment("elastic", "openai", "delete", ContainmentRecord.Accepted, held: false);
        var verdict = Clamp(HoldingResponse with { Containments = HoldingResponse.Containments.Add(unconfirmed) });
        Assert.False(verdict.Satisfied);
        Assert.Contains("deleted without an analyst's confirmation", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeToDetectIsCoveredWhenBothPlatformsMeasuredDetectAndRevoke()
    {
        var verdict = Times(HoldingResponse);
        Assert.True(verdict.Satisfied, verdict.Reason);
    }

    [Fact]
    public void TimeToDetectIsNotCoveredWithoutResponseEvidence()
    {
        var verdict = Judge(new TimeToDetectEvidence(ResponseEvidenceInput.Untrusted("stale response evidence: recorded for another library")));
        Assert.False(verdict.Satisfied);
        Assert.Contains("stale response evidence", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeToDetectIsNotCoveredWhenAPlatformMeasuredNoTimeToRevoke()
    {
        var verdict = Times(HoldingResponse with
        {
            Scenarios = [.. HoldingResponse.Scenarios.Select(s => s.Platform == "elastic" ? s with { Contained = 0, MeanTimeToRevokeSeconds = null } : s)],
        });
        Assert.False(verdict.Satisfied);
        Assert.Contains("measured no time to revoke on elastic", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeToDetectIsNotCoveredWhenAPlatformWasNotPlayed()
    {
        var verdict = Times(HoldingResponse with { Scenarios = [.. HoldingResponse.Scenarios.Where(s => s.Platform == "sentinel")] });
        Assert.False(verdict.Satisfied);
        Assert.Contains("measured no time to detect on elastic", verdict.Reason, StringComparison.Ordinal);
    }
}
