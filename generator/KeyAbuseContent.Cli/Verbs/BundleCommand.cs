using System.ComponentModel;
using System.Text;
using KeyAbuseContent.Build;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Responder.Playback;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse bundle</c>: the release zip of a library whose tests pass, and with <c>--record</c> the release's report under releases/.</summary>
public sealed class BundleCommand : Command<BundleCommand.Settings>
{
    public sealed class Settings : TestedRulesSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Where KeyAbuseContent-<version>.zip (and its REPORT.md) go. Default: dist")]
        [DefaultValue("dist")]
        public string Out { get; init; } = "dist";

        [CommandOption("--version-file <FILE>")]
        [Description("The pack's version, one line x.y.z. Default: VERSION")]
        [DefaultValue("VERSION")]
        public string VersionFile { get; init; } = "VERSION";

        [CommandOption("--record <DIR>")]
        [Description("Also record the release: write <DIR>/<version>/report.json, the baseline `validate` checks rule versions against (make release)")]
        public string? Record { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (rules, root) = settings.Resolve();
        Version version;
        try
        {
            version = PackVersion.Read(settings.VersionFile);
        }
        catch (FormatException e)
        {
            throw new BadInputException(e.Message);
        }
        var console = AnsiConsole.Console;
        var build = Reporter.Build(console, root, rules);
        Reporter.Print(Console.Out, build.Diagnostics);
        if (!build.Succeeded)
        {
            console.MarkupLine("[red]the library does not build[/]: no bundle was written.");
            return ExitCodes.Findings;
        }
        var history = new DiagnosticBag();
        var releases = ReleaseHistory.Load(PackBuilder.DefaultReleasesDir(rules), history);
        if (settings.Record is { } recordDir)
        {
            CheckRecordable(recordDir, version, ReleaseHistory.Load(recordDir, history));
        }
        var results = TestResultsSource.Load(console, build, rules, settings.Datasets, settings.Results);
        var missing = build.Rules.Select(r => r.Analyzed.Rule.Name).Where(n => !results.ContainsKey(n) || results[n].Stale).ToList();
        if (missing.Count > 0)
        {
            TestResultsSource.WarnStale(Console.Out, results, settings.Results);
            throw new BadInputException($"{settings.Results} has no current results for {string.Join(", ", missing)}; run `keyabuse test --results {settings.Results}` first");
        }
        var failing = results.Values.Where(r => r.Records.Any(t => !t.Passed)).Select(r => r.Rule).Order(StringComparer.Ordinal).ToList();
        if (failing.Count > 0)
        {
            console.MarkupLine($"[red]failing tests[/] in {Markup.Escape(string.Join(", ", failing))}: a bundle never ships a rule that misses its attack or fires on benign traffic; no bundle was written.");
            return ExitCodes.Findings;
        }
        var coverage = CoverageAnalysis.Analyze(new CoverageInputs(build.Library, results), CheckGates.For(ResponseEvidenceRecorder.Trust(settings.Response, build)));
        var previous = ReleaseHistory.Latest(releases, before: version);
        var files = ReleaseBundle.Files(new BundleInputs(build, version, results, coverage, previous, ReleaseBundle.DefaultContributions));
        var path = ReleaseBundle.Write(files, version, settings.Out);
        console.MarkupLine($"[green]bundled[/] {build.Rules.Length} rule(s) into {Markup.Escape(path)} ({files.Count} files; changes since {Markup.Escape(previous?.Version.ToString() ?? "no earlier release")}).");
        if (!coverage.Passed)
        {
            console.MarkupLine($"[yellow]coverage[/]: {coverage.Failures.Count()} threat(s) or check(s) not covered (report.json and REPORT.md say which).");
        }
        if (settings.Record is { } record)
        {
            var report = Path.Combine(record, version.ToString(), "report.json");
            Directory.CreateDirectory(Path.GetDirectoryName(report)!);
            ReleaseBundle.WriteAtomically(report, Encoding.UTF8.GetBytes(files["report.json"]));
            console.MarkupLine($"[green]recorded[/] release {version} in {Markup.Escape(report)}: commit it with the release.");
        }
        return ExitCodes.Ok;
    }

    private static void CheckRecordable(string recordDir, Version version, IReadOnlyList<PackRelease> releases)
    {
        if (Directory.Exists(Path.Combine(recordDir, version.ToString())))
        {
            throw new BadInputException($"release {version} is already recorded in {Path.Combine(recordDir, version.ToString())}; raise VERSION for a new release");
        }
        if (ReleaseHistory.Latest(releases) is { } last && last.Version > version)
        {
            throw new BadInputException($"VERSION {version} is below the last recorded release {last.Version}");
        }
    }
}
