using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Harness.Running;
using KeyAbuseContent.Targets;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// Parity compares each run's Sentinel and Elastic results as they arrive, from either pass first, and reports
/// the differences in the Elastic pass's order (rule, then time) whatever order the runs came in.
/// </summary>
public class ParityLedgerTests
{
    private static readonly DateTime At = new(2026, 11, 11, 0, 0, 0, DateTimeKind.Utc);

    private static DataTable Result(Build.CompiledRule rule, bool sentinel, params object?[][] rows) =>
        new("result", [.. rule.Analyzed.ResultColumns.Select(c => new ColumnSchema(sentinel ? c.KqlName : c.EsqlName, "string"))], rows);

    private static object?[] Row(Build.CompiledRule rule, string key) =>
        [.. rule.Analyzed.ResultColumns.Select(c => (object?)(c.Name == "key_id" ? key : null))];

    [Fact]
    public void Runs_that_differ_are_reported_in_rule_and_time_order_whichever_pass_delivers_first()
    {
        using var library = new TestLibrary();
        library.Rule("network/test-new-country.yaml", NewValueHistoryParityTests.NewCountryRule);
        var rule = Assert.Single(library.Build().Rules);
        var name = rule.Analyzed.Rule.Name;
        var ledger = new ParityLedger([rule]);

        ledger.Add(new RunResult(name, Target.Sentinel, At.AddMinutes(5), At.AddMinutes(10), Result(rule, true, Row(rule, "k1"))));
        ledger.Add(new RunResult(name, Target.Elastic, At, At, Result(rule, false)));
        ledger.Add(new RunResult(name, Target.Elastic, At.AddMinutes(5), At.AddMinutes(5), Result(rule, false)));
        ledger.Add(new RunResult(name, Target.Sentinel, At, At.AddMinutes(5), Result(rule, true, Row(rule, "k2"))));
        ledger.Add(new RunResult(name, Target.Elastic, At.AddMinutes(10), At.AddMinutes(10), Result(rule, false, Row(rule, "k3"))));
        ledger.Add(new RunResult(name, Target.Sentinel, At.AddMinutes(10), At.AddMinutes(15), Result(rule, true, Row(rule, "k3"))));

        var differences = ledger.Differences();

        Assert.Equal([At, At.AddMinutes(5)], differences.Select(d => d.At));
        Assert.All(differences, d => Assert.StartsWith("Sentinel returned 1 row(s), Elastic 0", d.Message, StringComparison.Ordinal));
    }
}
