using System.ComponentModel;
using System.Globalization;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Reporting;
using KeyAbuseContent.Harness.Running;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse run</c>: the whole library on the rules' schedules over one dataset.</summary>
public sealed class RunCommand : Command<RunCommand.Settings>
{
    public sealed class Settings : TargetSettings
    {
        [CommandOption("--dataset <DIR>")]
        [Description("The dataset folder (DESIGN.md): events.jsonl[[.gz]], inventory.yaml, labels.json, geo.csv")]
        public string Dataset { get; init; } = "";

        [CommandOption("--out <FILE>")]
        [Description("Where the alert lines go (JSON Lines). Default: none")]
        public string? Out { get; init; }

        [CommandOption("--ingestion-delay <SPAN>")]
        [Description("How long after it happens an event becomes visible: 0s, 2m, 15m. Default: 0s")]
        [DefaultValue("0s")]
        public string IngestionDelay { get; init; } = "0s";

        [CommandOption("--learning <SPAN>")]
        [Description("The learning period at the dataset's start whose alerts are not scored as false (applied when the dataset is at least twice as long). Default: 7d")]
        [DefaultValue("7d")]
        public string Learning { get; init; } = "7d";

        [CommandOption("--respond")]
        [Description("Play the response on the timeline: each medium+ alert through the responder against local provider servers; an analyst decides each held containment after --confirm-delay, confirming an attack's alert (labels.json, required) and dismissing the rest; reports mean time to detect, notify and revoke per scenario")]
        public bool Respond { get; init; }

        [CommandOption("--confirm-delay <SPAN>")]
        [Description("How long an analyst takes to confirm or dismiss a held containment, with --respond: 0s, 15m, 1h. Default: 15m")]
        [DefaultValue("15m")]
        public string ConfirmDelay { get; init; } = "15m";

        [CommandOption("--evidence <FILE>")]
        [Description("With --respond: write the response evidence the coverage gate reads (containment calls per platform and times per scenario, fingerprinted), e.g. TestResults/response.json")]
        public string? Evidence { get; init; }

        [CommandOption("--no-parity")]
        [Description("Skip the check that both targets return the same rows on every run")]
        public bool NoParity { get; init; }

        public override ValidationResult Validate()
        {
            if (Dataset.Length == 0)
            {
                return ValidationResult.Error("--dataset is required");
            }
            if (Evidence is not null && !Respond)
            {
                return ValidationResult.Error("--evidence records the response: it needs --respond");
            }
            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (rules, root) = settings.Resolve();
        if (!Directory.Exists(settings.Dataset))
        {
            throw new BadInputException($"the dataset folder '{settings.Dataset}' does not exist");
        }
        if (settings.Respond && !File.Exists(Path.Combine(settings.Dataset, "labels.json")))
        {
            // The analyst of the playback confirms a held containment only for an attack's alert and dismisses the
            // rest; without labels there is no telling them apart, nor a time to revoke to measure.
            throw new BadInputException($"--respond plays the analyst from the dataset's labels: '{Path.Combine(settings.Dataset, "labels.json")}' does not exist (write the attacks as [{{\"scenario\",\"key_id\",\"start\",\"end\"}}], or [] when there are none)");
        }
        TimeSpan delay;
        try
        {
            delay = ElasticRunner.Span(settings.IngestionDelay);
        }
        catch (FormatException)
        {
            throw new BadInputException($"--ingestion-delay '{settings.IngestionDelay}': a number and s, m, h or d");
        }
        TimeSpan learning;
        try
        {
            learning = ElasticRunner.Span(settings.Learning);
        }
        catch (FormatException)
        {
            throw new BadInputException($"--learning '{settings.Learning}': a number and s, m, h or d");
        }
        TimeSpan confirmDelay;
        try
        {
            confirmDelay = ElasticRunner.Span(settings.ConfirmDelay);
        }
        catch (FormatException)
        {
            throw new BadInputException($"--confirm-delay '{settings.ConfirmDelay}': a number and s, m, h or d");
        }
        var console = AnsiConsole.Console;
        var build = Reporter.Build(console, root, rules);
        if (!build.Succeeded)
        {
            Reporter.Print(Console.Out, build.Diagnostics);
            return ExitCodes.Findings;
        }
        if (settings.Engine.Length > 0 && delay != TimeSpan.Zero)
        {
            // A real engine holds every event from the start; what a run sees is bounded by its window only.
            throw new BadInputException("--ingestion-delay is played by the embedded executors only: leave it out with --engine");
        }
        using var engines = EngineOptions.Create(settings.Engine, build.Rules);
        var dataset = DatasetLoader.Load(settings.Dataset);
        foreach (var problem in dataset.Problems)
        {
            Console.Error.WriteLine("warning: " + problem);
        }
        if (!dataset.Problems.IsEmpty)
        {
            console.MarkupLine($"[yellow]{dataset.Problems.Length} input problem(s)[/]: lines or records skipped while loading {Markup.Escape(settings.Dataset)} (listed above); the rest loaded.");
        }
        PackRun? run = null;
        if (engines.Describe() is { Length: > 0 } where)
        {
            console.MarkupLineInterpolated($"running on real engines: {where}");
        }
        var options = new RunOptions { IngestionDelay = delay, KqlEngine = engines.Kusto, EsqlEngine = engines.Elasticsearch };
        console.Status().Start($"running {build.Rules.Length} rule(s) over {dataset.Events.Length} event(s) and {dataset.Raw.Length} vendor record(s)", _ =>
            run = new PackRunner(options, rules).Run(build.Rules, dataset, settings.Sentinel, settings.Elastic, parity: !settings.NoParity));
        if (settings.Out is { } path)
        {
            File.WriteAllLines(path, run!.Alerts.Select(a => a.ToJsonLine()));
        }
        var names = build.Rules.Select(r => r.Analyzed.Rule.Name).ToList();
        var missed = 0;
        foreach (var target in new[] { Target.Sentinel, Target.Elastic }.Where(t => t == Target.Sentinel ? settings.Sentinel : settings.Elastic))
        {
            var grouping = target == Target.Sentinel
                ? build.Rules.ToDictionary(r => r.Analyzed.Rule.Name, r => r.Sentinel.Rule.IncidentGroupingLookback, StringComparer.Ordinal)
                : null;
            var score = RunReport.Score(dataset, run!.Alerts, target, names, learning, grouping);
            missed += score.Missed.Length;
            var table = new Table().Title(target.ToString()).AddColumns("rule", "alerts", "incidents", "attacks detected", "false alerts (medium+)", "per 1000 key-days", "first / median time to detect");
            foreach (var r in score.Rules)
            {
                table.AddRow(Markup.Escape(r.Rule), Num(r.Alerts), Num(r.Incidents), $"{r.Detected} of {r.Labels}", Num(r.FalseAlerts), r.FalsePer1000KeyDays.ToString("0.00", CultureInfo.InvariantCulture), $"{Span(r.FirstTimeToDetect)} / {Span(r.MedianTimeToDetect)}");
            }
            table.AddRow("[bold]all rules[/]", Num(score.Alerts), Num(score.Incidents), $"{score.Detected} of {score.Labels}", Num(score.FalseAlerts), score.FalsePer1000KeyDays.ToString("0.00", CultureInfo.InvariantCulture), $"median {Span(score.MedianTimeToDetect)}");
            table.Caption(string.Create(CultureInfo.InvariantCulture,
                $"{score.KeyDays:0} key-days scored; learning period {(score.Learning == TimeSpan.Zero ? "none" : Span(score.Learning))}; detection by medium+ alerts"));
            console.Write(table);
            if (!score.Attacks.IsEmpty)
            {
                var attacks = new Table().Title($"{target}: attacks").AddColumns("scenario", "key", "start", "first alert by", "time to detect");
                foreach (var a in score.Attacks)
                {
                    attacks.AddRow(Markup.Escape(a.Label.Scenario), Markup.Escape(a.Label.KeyId), Alert.Iso(a.Label.Start),
                        a.FirstRule is null ? "[yellow]missed[/]" : Markup.Escape(a.FirstRule), Span(a.TimeToDetect));
                }
                console.Write(attacks);
            }
        }
        if (settings.Respond)
        {
            var playbacks = RespondReport.Play(console, settings.Dataset, dataset, run!.Alerts, [.. new[] { Target.Sentinel, Target.Elastic }.Where(t => t == Target.Sentinel ? settings.Sentinel : settings.Elastic)], confirmDelay, cancellationToken);
            if (settings.Evidence is { } evidence)
            {
                RespondReport.WriteEvidence(console, evidence, build, settings.Dataset, settings.ConfirmDelay, playbacks);
            }
        }
        foreach (var d in run!.Parity.Take(20))
        {
            Console.Out.WriteLine($"parity: {d.Rule} at {Alert.Iso(d.At)}: {d.Message}");
        }
        if (!run.Parity.IsEmpty)
        {
            console.MarkupLine($"[red]{run.Parity.Length} run(s) where Sentinel and Elastic disagree[/]");
            return ExitCodes.Findings;
        }
        if (missed > 0)
        {
            console.MarkupLine($"[red]{missed} labelled attack(s) missed[/] (listed above as missed): the library does not detect every attack of the dataset.");
            return ExitCodes.Findings;
        }
        return ExitCodes.Ok;
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Span(TimeSpan? t) => t is { } v ? (v.TotalMinutes < 60 ? $"{v.TotalMinutes:0} min" : v.TotalHours < 48 ? $"{v.TotalHours:0.0} h" : $"{v.TotalDays:0.#} d") : "-";
}
