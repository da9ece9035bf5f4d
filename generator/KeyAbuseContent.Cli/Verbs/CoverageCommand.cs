using System.ComponentModel;
using System.Text;
using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Responder.Playback;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse coverage</c>: the threat model, ATT&amp;CK, ATLAS and OWASP against tested rules; exit 1 when a threat or check is not covered.</summary>
public sealed class CoverageCommand : Command<CoverageCommand.Settings>
{
    public sealed class Settings : TestedRulesSettings
    {
        [CommandOption("--format <FORMAT>")]
        [Description("table, md, json or navigator (both Navigator layers, as a list). Default: table")]
        [DefaultValue("table")]
        public string Format { get; init; } = "table";

        [CommandOption("--out <DIR>")]
        [Description("Also write coverage.md, coverage.json, attack-navigator.json and atlas-navigator.json there")]
        public string? Out { get; init; }

        public override ValidationResult Validate() =>
            Format is "table" or "md" or "json" or "navigator" ? ValidationResult.Success() : ValidationResult.Error($"--format '{Format}': table, md, json or navigator");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (rules, root) = settings.Resolve();
        var console = AnsiConsole.Console;
        var build = Reporter.Build(console, root, rules);
        if (!build.Succeeded)
        {
            Reporter.Print(Console.Out, build.Diagnostics);
            console.MarkupLine("[red]the library does not build[/]; coverage needs it to.");
            return ExitCodes.Findings;
        }
        var results = TestResultsSource.Load(console, build, rules, settings.Datasets, settings.Results);
        TestResultsSource.WarnStale(Console.Out, results, settings.Results);
        var report = CoverageAnalysis.Analyze(new CoverageInputs(build.Library, results), CheckGates.For(ResponseEvidenceRecorder.Trust(settings.Response, build)));
        switch (settings.Format)
        {
            case "md":
                Console.Out.Write(CoverageDocuments.Markdown(report));
                break;
            case "json":
                Console.Out.Write(CoverageDocuments.Files(report)["coverage.json"]);
                break;
            case "navigator":
                Console.Out.Write(CoverageDocuments.NavigatorList(report));
                break;
            default:
                Tables(console, report);
                break;
        }
        if (settings.Out is { } dir)
        {
            Directory.CreateDirectory(dir);
            foreach (var (name, content) in CoverageDocuments.Files(report))
            {
                ReleaseBundle.WriteAtomically(Path.Combine(dir, name), Encoding.UTF8.GetBytes(content));
            }
        }
        if (settings.Format != "table")
        {
            // Machine formats keep stdout to the document; the verdict goes to stderr.
            Console.Error.WriteLine(report.Passed ? "coverage: every threat and check is covered" : $"coverage: {report.Failures.Count()} threat(s) or check(s) not covered");
        }
        else
        {
            foreach (var t in report.Failures)
            {
                Console.Out.WriteLine($"NOT COVERED {t.Entry.Id}: {t.Reason}");
            }
            console.MarkupLine(report.Passed
                ? $"[green]covered[/]: all {report.Threats.Length} threats and checks."
                : $"[red]{report.Failures.Count()} of {report.Threats.Length} threats and checks not covered[/].");
        }
        return report.Passed ? ExitCodes.Ok : ExitCodes.Findings;
    }

    private static void Tables(IAnsiConsole console, CoverageReport report)
    {
        var threats = new Table().Title("threat model").AddColumns("id", "kind", "rules (Sentinel / Elastic)", "verdict", "why");
        foreach (var t in report.Threats)
        {
            var rules = t.Rules.IsEmpty ? "-" : string.Join("\n", t.Rules.Select(r => $"{r.Name} [{r.Status.ToString().ToLowerInvariant()}] {RuleCoverage.Word(r.Sentinel)} / {RuleCoverage.Word(r.Elastic)}{(r.Parity ? "" : ", parity fails")}"));
            threats.AddRow(Markup.Escape(t.Entry.Id), t.Entry.IsCheck ? "check" : "threat", Markup.Escape(rules), t.Satisfied ? "[green]covered[/]" : "[red]NOT COVERED[/]", Markup.Escape(t.Reason));
        }
        console.Write(threats);
        Matrix(console, "MITRE ATT&CK (Enterprise)", report.Attack);
        Matrix(console, "MITRE ATLAS", report.Atlas);
        var owasp = new Table().Title("OWASP Top 10 for LLM Applications (2025)").AddColumns("risk", "name", "rules", "tested");
        foreach (var o in report.Owasp)
        {
            owasp.AddRow(o.Id, Markup.Escape(o.Name), Markup.Escape(o.Rules.IsEmpty ? "-" : string.Join(", ", o.Rules.Select(r => r.Name))), o.Tested.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        console.Write(owasp);
    }

    private static void Matrix(IAnsiConsole console, string title, IEnumerable<TechniqueCoverage> techniques)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumns("technique", "name", "tactics", "rules", "tested rules");
        foreach (var t in techniques)
        {
            table.AddRow(t.Id, Markup.Escape(t.Name), Markup.Escape(string.Join(", ", t.Tactics)), Markup.Escape(string.Join(", ", t.Rules.Select(r => r.Name))), t.Score.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        console.Write(table);
    }
}
