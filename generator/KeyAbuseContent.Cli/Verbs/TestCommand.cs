using System.ComponentModel;
using System.Diagnostics;
using KeyAbuseContent.Harness.Testing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse test</c>: each rule's declared tests, on each target, with parity.</summary>
public sealed class TestCommand : Command<TestCommand.Settings>
{
    public sealed class Settings : TargetSettings
    {
        [CommandOption("--datasets <DIR>")]
        [Description("Where the datasets the rules name are. Default: test-data")]
        [DefaultValue("test-data")]
        public string Datasets { get; init; } = "test-data";

        [CommandOption("--junit <FILE>")]
        [Description("Also write the outcomes as JUnit XML")]
        public string? JUnit { get; init; }

        [CommandOption("--results <FILE>")]
        [Description("Also write each rule's results with their fingerprints, for keyabuse coverage and bundle (--results)")]
        public string? Results { get; init; }

        [CommandOption("--rule <NAME>")]
        [Description("Only this rule")]
        public string? Rule { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (rules, root) = settings.Resolve();
        if (!Directory.Exists(settings.Datasets))
        {
            throw new BadInputException($"the datasets folder '{settings.Datasets}' does not exist");
        }
        var console = AnsiConsole.Console;
        var build = Reporter.Build(console, root, rules);
        if (!build.Succeeded)
        {
            Reporter.Print(Console.Out, build.Diagnostics);
            console.MarkupLine("[red]the library does not build[/]; fix it before testing.");
            return ExitCodes.Findings;
        }
        var selected = build.Rules.Where(r => settings.Rule is null || r.Analyzed.Rule.Name == settings.Rule).ToList();
        if (selected.Count == 0)
        {
            throw new BadInputException($"no rule named '{settings.Rule}'");
        }
        using var engines = EngineOptions.Create(settings.Engine, build.Rules);
        if (engines.Describe() is { Length: > 0 } where)
        {
            console.MarkupLineInterpolated($"running on real engines: {where}");
        }
        var recorder = new TestResultsRecorder(rules, settings.Datasets, new Harness.Running.RunOptions { KqlEngine = engines.Kusto, EsqlEngine = engines.Elasticsearch });
        var outcomes = new List<TestOutcome>();
        var results = new List<Coverage.RuleTestResults>();
        var clock = Stopwatch.StartNew();
        console.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("rule tests", maxValue: selected.Count);
            foreach (var rule in selected)
            {
                task.Description = rule.Analyzed.Rule.Name;
                var (ran, recorded) = recorder.Run(rule, settings.Sentinel, settings.Elastic);
                outcomes.AddRange(ran);
                results.Add(recorded);
                task.Increment(1);
            }
        });
        var table = new Table().AddColumns("rule", "check", "dataset", "result", "alerts");
        foreach (var o in outcomes)
        {
            table.AddRow(Markup.Escape(o.Rule), o.Check, Markup.Escape(o.Dataset), o.Passed ? "[green]pass[/]" : "[red]FAIL[/]", o.Check == "parity" ? "" : o.Alerts.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        console.Write(table);
        foreach (var o in outcomes.Where(o => !o.Passed))
        {
            Console.Out.WriteLine($"FAIL {o.Rule} [{o.Check}] on {o.Dataset}:");
            foreach (var f in o.Failures)
            {
                Console.Out.WriteLine("  " + f);
            }
            foreach (var a in o.Alerts.Take(5))
            {
                Console.Out.WriteLine($"  alert {a.KeyId} at {Harness.Running.Alert.Iso(a.Time)}: {a.Title}");
            }
            var rule = selected.First(r => r.Analyzed.Rule.Name == o.Rule);
            Console.Out.WriteLine(o.Check == "elastic" ? "  query:\n" + Indent(rule.Elastic.Query.Text) : o.Check == "sentinel" ? "  query:\n" + Indent(rule.Sentinel.Rule.Query) : "");
        }
        if (settings.Results is { } resultsFile)
        {
            Coverage.TestResultsFile.Write(resultsFile, results);
        }
        if (settings.JUnit is { } junit)
        {
            JUnitReport.Of(outcomes, clock.Elapsed).Save(junit);
        }
        var problems = recorder.Problems.ToList();
        foreach (var (_, problem) in problems)
        {
            Console.Error.WriteLine("warning: " + problem);
        }
        if (problems.Count > 0)
        {
            console.MarkupLine($"[yellow]{problems.Count} input problem(s)[/]: lines or records skipped while loading the datasets (listed above).");
        }
        var failed = outcomes.Count(o => !o.Passed);
        console.MarkupLine(failed == 0
            ? $"[green]{outcomes.Count} check(s) passed[/] for {selected.Count} rule(s) in {clock.Elapsed.TotalSeconds:0.0} s."
            : $"[red]{failed} of {outcomes.Count} check(s) failed[/].");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Findings;
    }

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => "    " + l));
}
