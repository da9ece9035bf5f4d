using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Reporting;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>How <c>keyabuse run</c> scores alerts against labels: detection, false alerts, learning, time to detect.</summary>
public sealed class RunReportTests
{
    private static readonly DateTime Day0 = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly AttackLabel Theft = new("volume-burst-new-country", "k1", Day0.AddDays(20).AddHours(3), Day0.AddDays(20).AddHours(4));

    /// <summary>A dataset of two keys with one event a day each for <paramref name="days"/> days, and the theft label.</summary>
    private static Dataset Dataset(int days)
    {
        var events = Enumerable.Range(0, days + 1)
            .SelectMany(d => new[] { Event(Day0.AddDays(d), "k1"), Event(Day0.AddDays(d), "k2") })
            .ToImmutableArray();
        return new Dataset("fixture", events, [], [Theft], [], []);
    }

    private static ActivityEvent Event(DateTime time, string key) =>
        new(time, key, "svc", "prod", "192.0.2.1", "US", 64500, "sdk", "openai", "gpt-4o-mini", "chat", 10, 10, 200, 100, 0.01, null);

    private static Alert Alert(DateTime time, string? key, string severity, string rule = "r1") =>
        new(rule, Guid.Empty, Target.Sentinel, time, key, severity, "t", "s", new JsonObject(), time, []);

    private static Alert ByAddress(DateTime time, string address) =>
        new("address-rule", Guid.Empty, Target.Sentinel, time, null, "high", "t", "s", new JsonObject { ["SrcIpAddr"] = address }, time, []);

    [Fact]
    public void AnAlertNamingNoKeyDetectsAnAttackFromAnAddressItsLabelGives()
    {
        var dataset = Dataset(35) with { Labels = [Theft with { Addresses = ["198.51.100.99"] }] };
        var attack = Assert.Single(RunReport.Score(dataset, [ByAddress(Theft.Start.AddMinutes(4), "198.51.100.99")], Target.Sentinel, ["address-rule"]).Attacks);
        Assert.Equal(TimeSpan.FromMinutes(4), attack.TimeToDetect);
    }

    [Fact]
    public void AnAlertNamingNoKeyDoesNotDetectAnAttackFromOtherAddresses()
    {
        var dataset = Dataset(35) with { Labels = [Theft with { Addresses = ["198.51.100.99"] }] };
        var score = RunReport.Score(dataset, [ByAddress(Theft.Start.AddMinutes(4), "198.51.100.7")], Target.Sentinel, ["address-rule"]);
        Assert.Equal(0, score.Detected);
    }

    [Fact]
    public void AnAlertNamingNoKeyDoesNotDetectAnAttackWhoseLabelGivesNoAddress()
    {
        var score = RunReport.Score(Dataset(35), [ByAddress(Theft.Start.AddMinutes(4), "192.0.2.1")], Target.Sentinel, ["address-rule"]);
        Assert.Equal(0, score.Detected);
    }

    [Fact]
    public void AnAlertOfLowSeverityDoesNotDetectAnAttack()
    {
        var score = RunReport.Score(Dataset(35), [Alert(Theft.Start.AddMinutes(10), "k1", "low")], Target.Sentinel, ["r1"]);
        Assert.Equal(0, score.Detected);
        Assert.Single(score.Missed);
    }

    [Fact]
    public void TimeToDetectRunsFromTheAttacksStartToTheFirstMediumAlert()
    {
        Alert[] alerts = [Alert(Theft.Start.AddMinutes(25), "k1", "high", "late"), Alert(Theft.Start.AddMinutes(15), "k1", "medium", "early")];
        var attack = Assert.Single(RunReport.Score(Dataset(35), alerts, Target.Sentinel, ["early", "late"]).Attacks);
        Assert.Equal("early", attack.FirstRule);
        Assert.Equal(TimeSpan.FromMinutes(15), attack.TimeToDetect);
    }

    [Fact]
    public void AnAlertInTheAttackWindowOfAnotherKeyIsFalse()
    {
        var score = RunReport.Score(Dataset(35), [Alert(Theft.Start.AddMinutes(10), "k2", "high")], Target.Sentinel, ["r1"]);
        Assert.Equal(1, score.FalseAlerts);
    }

    [Fact]
    public void AnAlertNamingNoKeyInsideAnAttackIsNotFalse()
    {
        Alert[] alerts = [Alert(Theft.Start.AddMinutes(10), null, "high"), Alert(Theft.End.AddHours(2), null, "high")];
        var score = RunReport.Score(Dataset(35), alerts, Target.Sentinel, ["r1"]);
        Assert.Equal(1, score.FalseAlerts);
        Assert.Equal(0, score.Detected);
    }

    [Fact]
    public void AlertsInTheLearningPeriodAreNotFalse()
    {
        Alert[] alerts = [Alert(Day0.AddDays(3), "k2", "high"), Alert(Day0.AddDays(10), "k2", "high")];
        var score = RunReport.Score(Dataset(35), alerts, Target.Sentinel, ["r1"], TimeSpan.FromDays(7));
        Assert.Equal(1, score.FalseAlerts);
        Assert.Equal(TimeSpan.FromDays(7), score.Learning);
    }

    [Fact]
    public void KeyDaysAreCountedAfterTheLearningPeriod()
    {
        var score = RunReport.Score(Dataset(35), [], Target.Sentinel, ["r1"], TimeSpan.FromDays(7));
        Assert.Equal(2 * 28, score.KeyDays, 6);
    }

    [Fact]
    public void AKeyIdTriedForMinutesAddsMinutesToKeyDays()
    {
        var tried = Day0.AddDays(20);
        var dataset = Dataset(35) with { Events = [.. Dataset(35).Events.Append(Event(tried, "fp-1")).Append(Event(tried.AddMinutes(6), "fp-1")).OrderBy(e => e.Time)] };
        var score = RunReport.Score(dataset, [], Target.Sentinel, ["r1"], TimeSpan.FromDays(7));
        Assert.Equal(2 * 28 + 6.0 / (24 * 60), score.KeyDays, 6);
    }

    [Fact]
    public void ADatasetShorterThanTwiceTheLearningPeriodIsScoredWhole()
    {
        var score = RunReport.Score(Dataset(10), [Alert(Day0.AddDays(1), "k2", "medium")], Target.Sentinel, ["r1"], TimeSpan.FromDays(7));
        Assert.Equal(TimeSpan.Zero, score.Learning);
        Assert.Equal(1, score.FalseAlerts);
    }

    [Fact]
    public void AlertsOfOneKeyWithinTheGroupingLookBackMakeOneIncident()
    {
        var start = Day0.AddDays(9);
        Alert[] alerts = [Alert(start, "k2", "high"), Alert(start.AddMinutes(5), "k2", "high"), Alert(start.AddMinutes(55), "k2", "high"),
            Alert(start.AddMinutes(65), "k2", "high"), Alert(start.AddMinutes(5), "k1", "high")];
        Assert.Equal(3, RunReport.Incidents(alerts, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void WithoutGroupingEveryAlertIsAnIncident()
    {
        var start = Day0.AddDays(9);
        Assert.Equal(2, RunReport.Incidents([Alert(start, "k2", "high"), Alert(start.AddMinutes(5), "k2", "high")], TimeSpan.Zero));
    }
}
