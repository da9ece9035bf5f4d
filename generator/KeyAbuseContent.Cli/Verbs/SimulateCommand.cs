using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using KeyAbuseContent.Harness.Simulation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace KeyAbuseContent.Cli.Verbs;

/// <summary><c>keyabuse simulate</c>: a labelled synthetic stolen-key dataset.</summary>
public sealed class SimulateCommand : Command<SimulateCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("The dataset folder to write (created when missing): events.jsonl.gz, inventory.yaml, labels.json, geo.csv, README.md")]
        public string Out { get; init; } = "";

        [CommandOption("--days <N>")]
        [Description("Days of traffic, 1-366; attacks that need history start on day 15 and are skipped in runs of 15 days or fewer. Default: 35")]
        [DefaultValue(SimulationOptions.DefaultDays)]
        public int Days { get; init; } = SimulationOptions.DefaultDays;

        [CommandOption("--services <N>")]
        [Description("Services of the organisation, 1-64, the most telling first. Default: 6")]
        [DefaultValue(SimulationOptions.DefaultServices)]
        public int Services { get; init; } = SimulationOptions.DefaultServices;

        [CommandOption("--keys-per-service <N>")]
        [Description("Keys per service, 1-20: production keys, the last a development key when 2 or more. Default: 2")]
        [DefaultValue(SimulationOptions.DefaultKeysPerService)]
        public int KeysPerService { get; init; } = SimulationOptions.DefaultKeysPerService;

        [CommandOption("--keys <N>")]
        [Description("Keys in all, spread evenly over the services: a multiple of --services (instead of --keys-per-service). Default: 12")]
        public int? Keys { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Random seed; the same seed and options give the same bytes. Default: 1")]
        [DefaultValue(SimulationOptions.DefaultSeed)]
        public ulong Seed { get; init; } = SimulationOptions.DefaultSeed;

        [CommandOption("--start <DATE>")]
        [Description("First day, UTC (yyyy-MM-dd). Default: 2026-10-26")]
        public string? Start { get; init; }

        [CommandOption("--scenarios <LIST>")]
        [Description("Attacks to inject: all, none, or a comma list of volume-burst-new-country, volume-10x-same-network, low-and-slow-long-prompts, embeddings-key-chat, public-leak-fanout, expired-key-use, model-probing, proxy-token-drain, credential-stuffing. Default: all")]
        [DefaultValue("all")]
        public string Scenarios { get; init; } = "all";

        public override ValidationResult Validate()
        {
            if (Out.Length == 0)
            {
                return ValidationResult.Error("--out is required");
            }
            if (Keys is { } keys && keys % Services != 0)
            {
                return ValidationResult.Error($"--keys {keys}: a multiple of --services ({Services}), so that every service has as many keys");
            }
            if (Start is not null && ParseStart(Start) is null)
            {
                return ValidationResult.Error($"--start '{Start}': a date such as 2026-10-26");
            }
            var problems = ToOptions().Problems();
            return problems.IsEmpty ? ValidationResult.Success() : ValidationResult.Error(string.Join("; ", problems));
        }

        public SimulationOptions ToOptions() => new()
        {
            Days = Days,
            Services = Services,
            KeysPerService = Keys is { } keys ? keys / Services : KeysPerService,
            Seed = Seed,
            Start = Start is null ? SimulationOptions.DefaultStart : ParseStart(Start) ?? SimulationOptions.DefaultStart,
            Scenarios = SimulationOptions.ParseScenarios(Scenarios),
        };

        private static DateTime? ParseStart(string text) =>
            DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date) ? date : null;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var options = settings.ToOptions();
        var console = AnsiConsole.Console;
        var clock = Stopwatch.StartNew();
        SimulationResult? result = null;
        try
        {
            console.Progress().Start(ctx =>
            {
                var task = ctx.AddTask("planning", maxValue: options.Days);
                var plan = SimulationPlan.Create(options);
                task.Description = "simulating";
                result = Simulator.Write(plan, settings.Out, p =>
                {
                    task.Value = p.Day;
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"day {p.Day}/{p.Days}: {p.Events:N0} events");
                });
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"cannot write to '{settings.Out}': {e.Message}");
        }
        var r = result!;
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[green]wrote[/] {Markup.Escape(settings.Out)}: {r.Events:N0} events of {r.Keys} keys over {options.Days} days ({r.CompressedBytes / 1e6:0.0} MB gzip), {r.Labels.Length} labelled attack(s), in {clock.Elapsed.TotalSeconds:0.0} s"));
        if (!r.Labels.IsEmpty)
        {
            var table = new Table().AddColumns("scenario", "key", "start", "end");
            foreach (var l in r.Labels)
            {
                table.AddRow(l.Scenario, Markup.Escape(l.KeyId), Harness.Running.Alert.Iso(l.Start), Harness.Running.Alert.Iso(l.End));
            }
            console.Write(table);
        }
        foreach (var s in r.Skipped)
        {
            console.MarkupLine($"[yellow]skipped[/] {s.Scenario}: {Markup.Escape(s.Reason)}");
        }
        return ExitCodes.Ok;
    }
}
