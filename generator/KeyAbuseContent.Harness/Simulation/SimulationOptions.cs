using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>What to simulate. The same options give the same bytes.</summary>
public sealed record SimulationOptions
{
    public const int DefaultDays = 35;
    public const int DefaultServices = 6;
    public const int DefaultKeysPerService = 2;
    public const ulong DefaultSeed = 1;

    /// <summary>Attacks that need history start on this day of the run or later (rules need a baseline).</summary>
    public const int FirstAttackDay = 15;

    /// <summary>The default first day: fixed, so that runs repeat.</summary>
    public static readonly DateTime DefaultStart = new(2026, 10, 26, 0, 0, 0, DateTimeKind.Utc);

    public int Days { get; init; } = DefaultDays;
    public int Services { get; init; } = DefaultServices;

    /// <summary>Keys per service: production keys, and the last one a development key when there are two or more.</summary>
    public int KeysPerService { get; init; } = DefaultKeysPerService;

    public ulong Seed { get; init; } = DefaultSeed;
    public DateTime Start { get; init; } = DefaultStart;

    /// <summary>The scenarios to inject, by name; all of them by default, none for benign traffic only.</summary>
    public ImmutableArray<string> Scenarios { get; init; } = [.. ScenarioCatalog.All.Select(s => s.Name)];

    /// <summary>Every problem with the options, each a sentence; empty when they are valid.</summary>
    public ImmutableArray<string> Problems()
    {
        var problems = ImmutableArray.CreateBuilder<string>();
        if (Days is < 1 or > 366)
        {
            problems.Add($"--days {Days}: between 1 and 366");
        }
        if (Services is < 1 or > 64)
        {
            problems.Add($"--services {Services}: between 1 and 64");
        }
        if (KeysPerService is < 1 or > 20)
        {
            problems.Add($"--keys-per-service {KeysPerService}: between 1 and 20");
        }
        if (Start.Kind != DateTimeKind.Utc || Start.TimeOfDay != TimeSpan.Zero || Start.Year is < 2000 or > 2100)
        {
            problems.Add($"--start {Start:O}: a date (midnight UTC) between 2000 and 2100");
        }
        foreach (var name in Scenarios.Where(n => ScenarioCatalog.Find(n) is null))
        {
            problems.Add($"--scenarios: unknown scenario '{name}'; the scenarios are {ScenarioCatalog.Names} (or all, or none)");
        }
        return problems.ToImmutable();
    }

    /// <summary>Parses a <c>--scenarios</c> value: a comma list of names, <c>all</c>, or <c>none</c>.</summary>
    public static ImmutableArray<string> ParseScenarios(string text)
    {
        var trimmed = text.Trim();
        if (trimmed is "all" or "")
        {
            return [.. ScenarioCatalog.All.Select(s => s.Name)];
        }
        if (trimmed == "none")
        {
            return [];
        }
        return [.. trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The command line that writes exactly this dataset into a folder, every option spelled out.</summary>
    public string CommandLine(string outFolder)
    {
        var text = new StringBuilder("keyabuse simulate --out ").Append(outFolder);
        text.Append(CultureInfo.InvariantCulture, $" --days {Days} --services {Services} --keys-per-service {KeysPerService}");
        text.Append(CultureInfo.InvariantCulture, $" --seed {Seed} --start {Start:yyyy-MM-dd} --scenarios ");
        text.Append(Scenarios.IsEmpty ? "none" : Scenarios.Length == ScenarioCatalog.All.Length && ScenarioCatalog.All.All(s => Scenarios.Contains(s.Name)) ? "all" : string.Join(",", Scenarios));
        return text.ToString();
    }
}
