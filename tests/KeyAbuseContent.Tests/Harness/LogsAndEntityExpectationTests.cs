using System.Collections.Immutable;
using System.Text.Json.Nodes;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Harness.Testing;
using KeyAbuseContent.Rules;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>Log lines in datasets (the logs source) and expectations that name an entity instead of a key.</summary>
public sealed class LogsAndEntityExpectationTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "keyabuse-logs-" + Guid.NewGuid().ToString("N"));

    public LogsAndEntityExpectationTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void LogLinesAreLoadedInTimeOrderAndABadLineIsReported()
    {
        File.WriteAllText(Path.Combine(_folder, "logs.jsonl"),
            """{"time":"2026-11-30T10:05:00.250Z","host":"ci-2","source":"job/2","message":"b"}""" + "\n" +
            """{"host":"ci-9","message":"no time"}""" + "\n" +
            """{"time":"2026-11-30T10:01:00.250Z","host":"ci-1","source":"job/1","message":"a"}""" + "\n");
        var dataset = DatasetLoader.Load(_folder);
        Assert.Equal(["ci-1", "ci-2"], dataset.Logs.Select(l => l.Host));
        Assert.Equal(2, Assert.Single(dataset.Problems).Line);
    }

    [Fact]
    public void ADatasetOfLogLinesSpansTheirTimes()
    {
        File.WriteAllText(Path.Combine(_folder, "logs.jsonl"),
            """{"time":"2026-11-30T10:01:00Z","host":"ci-1","message":"a"}""" + "\n" + """{"time":"2026-11-30T11:01:00Z","host":"ci-1","message":"b"}""" + "\n");
        Assert.Equal((new DateTime(2026, 11, 30, 10, 1, 0, DateTimeKind.Utc), new DateTime(2026, 11, 30, 11, 1, 0, DateTimeKind.Utc)), DatasetLoader.Load(_folder).Span);
    }

    private static Alert HostAlert(string host, DateTime at) =>
        new("test-logs", Guid.Empty, Target.Sentinel, at, null, "high", "t", "s", new JsonObject { ["Computer"] = host, ["Lines"] = 2 }, null, []);

    private static Rule LogsRule(RuleTest test) => new()
    {
        Id = Guid.Empty,
        Name = "test-logs",
        Version = new Version(1, 0, 0),
        Title = "t",
        Description = "d",
        Status = RuleStatus.Stable,
        Severity = Severity.High,
        Author = "tests",
        Created = default,
        Modified = default,
        References = [],
        Tags = [],
        Threats = [],
        Source = RuleSource.Logs,
        Schedule = new(TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(15)),
        Detect = null!,
        Entities = ImmutableDictionary<string, string>.Empty,
        Output = null!,
        FalsePositives = [],
        Note = null,
        Tests = [test],
        File = "",
        Positions = ImmutableDictionary<string, SourcePosition>.Empty,
    };

    [Fact]
    public void AnExpectationByEntityIsMetByAnAlertWhoseRowHoldsIt()
    {
        var from = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
        var test = new RuleTest("leaks/x", ["sentinel"], [new Expectation("", from, from.AddMinutes(30), 1, null) { Entity = "ci-runner-7" }], default);
        var outcome = Expectations.Judge(LogsRule(test), test, Target.Sentinel, [HostAlert("ci-runner-7", from.UtcDateTime.AddMinutes(15))]);
        Assert.True(outcome.Passed, string.Join("\n", outcome.Failures));
    }

    [Fact]
    public void AnAlertForAnotherEntityIsUnexpected()
    {
        var from = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
        var test = new RuleTest("leaks/x", ["sentinel"], [new Expectation("", from, from.AddMinutes(30), 1, null) { Entity = "ci-runner-7" }], default);
        var outcome = Expectations.Judge(LogsRule(test), test, Target.Sentinel, [HostAlert("ci-runner-8", from.UtcDateTime.AddMinutes(15))]);
        Assert.False(outcome.Passed);
        Assert.Contains(outcome.Failures, f => f.Contains("no expectation covers", StringComparison.Ordinal));
    }
}
