using System.Globalization;
using System.Text;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// A new value's history on Sentinel (the daily refresh and the hourly summary) must not hold the run's own
/// events: a country first used at 23:52 is still new to the runs at midnight, once the summary rule has
/// written the 23:00 hour and the refresh has folded it in, as it is on Elastic.
/// </summary>
public class NewValueHistoryParityTests
{
    internal const string NewCountryRule = """
        id: 11111111-2222-4333-8444-888888888888
        name: test-new-country
        version: 1.0.0
        title: A test rule for a new country with high token use
        description: A description long enough to pass the schema's minimum length.
        status: experimental
        severity: high
        author: tests
        created: 2026-12-01
        modified: 2026-12-02
        references: []
        tags: [attack.t1078.004, owasp.llm10]
        threats: [unusual-country]
        source: activity
        schedule: {every: 5m, lookback: 15m}
        detect:
          kind: new_value
          by: [key_id]
          field: country
          history: {length: 30d}
          window: 10m
          aggregate:
            tokens: sum(tokens)
          condition: tokens > 20000
        entities: {key: key_id}
        output:
          title: "Key {key_id} used from {country}"
          summary: "Key {key_id} used {tokens} tokens from {country}."
        false_positives: [A test.]
        tests: []
        """;

    /// <summary>Three days of hourly use from the US, then 30,000 tokens from Germany from 23:52 on the last day.</summary>
    internal static string NewCountryBeforeMidnight()
    {
        var events = new StringBuilder();
        void Event(DateTime time, string country, int tokens) => events.Append(CultureInfo.InvariantCulture,
            $$"""{"time":"{{time:yyyy-MM-ddTHH:mm:ss.fffZ}}","key_id":"k","country":"{{country}}","status":200,"input_tokens":{{tokens}},"output_tokens":0}""").Append('\n');
        var start = new DateTime(2026, 11, 27, 0, 7, 0, DateTimeKind.Utc);
        for (var hour = 0; hour < 3 * 24 + 1; hour++)
        {
            Event(start.AddHours(hour), "US", 500);
        }
        var first = new DateTime(2026, 11, 29, 23, 52, 0, DateTimeKind.Utc);
        for (var minute = 0; minute < 3; minute++)
        {
            Event(first.AddMinutes(minute), "DE", 10_000);
        }
        return events.ToString();
    }

    [Fact]
    public void ANewCountryJustBeforeAnHourEndsGivesTheSameRowsOnBothTargets()
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-country.yaml", NewCountryRule);
        var build = library.Build();
        var folder = Path.Combine(library.TestDataDir, "network", "before-midnight");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "events.jsonl"), NewCountryBeforeMidnight());
        var run = new PackRunner(new RunOptions(), library.RulesDir).Run(build.Rules, DatasetLoader.Load(folder), sentinel: true, elastic: true, parity: true);
        Assert.Empty(run.Parity);
    }
}
