using System.Collections.Immutable;
using System.Globalization;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>
/// Places one attack of each selected scenario on a key that suits it: never before day
/// <see cref="SimulationOptions.FirstAttackDay"/> when the run is long enough (shorter runs skip the
/// scenarios that need history), never within two hours of another attack on the same key, and always
/// ending before the run does.
/// </summary>
internal static class AttackPlanner
{
    private const long MinuteMs = 60_000;
    private const long HourMs = 60 * MinuteMs;
    private const long DayMs = 24 * HourMs;
    private const int Tries = 80;

    public static (ImmutableArray<InjectedAttack> Attacks, ImmutableArray<SkippedScenario> Skipped) Plan(SimulationPlan plan)
    {
        var options = plan.Options;
        var attacks = new List<InjectedAttack>();
        var skipped = new List<SkippedScenario>();
        var taken = new Dictionary<SimulatedKey, List<(long First, long Last)>>();
        var longRun = options.Days > SimulationOptions.FirstAttackDay;
        // The scenarios with the fewest keys to choose from go first, then the days-long ones, which need the most room.
        var order = ScenarioCatalog.All.Where(s => options.Scenarios.Contains(s.Name))
            .OrderBy(s => Candidates(plan, s).Count)
            .ThenBy(s => s.Name is ScenarioCatalog.LowAndSlow or ScenarioCatalog.ProxyTokenDrain ? 0 : 1);
        foreach (var scenario in order)
        {
            var ordinal = ScenarioCatalog.All.IndexOf(scenario);
            if (scenario.NeedsHistory && !longRun)
            {
                skipped.Add(new(scenario.Name, string.Create(CultureInfo.InvariantCulture,
                    $"needs {SimulationOptions.FirstAttackDay} days of history before it; the run has {options.Days} (use --days {SimulationOptions.FirstAttackDay + 1} or more)")));
                continue;
            }
            var candidates = Candidates(plan, scenario);
            if (candidates.Count == 0)
            {
                skipped.Add(new(scenario.Name, Unsuited(scenario)));
                continue;
            }
            var r = new SimulationRandom(options.Seed, 2000 + (ulong)ordinal);
            InjectedAttack? placed = null;
            for (var attempt = 0; attempt < Tries && placed is null; attempt++)
            {
                var fresh = candidates.Where(k => !taken.ContainsKey(k)).ToList();
                var victim = r.Pick(fresh.Count > 0 && attempt < Tries / 2 ? fresh : candidates);
                if (StartFor(plan, scenario, victim, r, longRun) is not { } start)
                {
                    continue;
                }
                var attack = new InjectedAttack(scenario, victim, 1_000_000 + ordinal);
                if (!new AttackBuilder(plan, r, attack).Build(start))
                {
                    continue;
                }
                attack.Events.Sort();
                var window = (attack.FirstMs, attack.LastMs);
                var spans = taken.GetValueOrDefault(victim) ?? [];
                if (attack.LastMs >= plan.EndMs || spans.Any(s => window.FirstMs < s.Last + (2 * HourMs) && s.First < window.LastMs + (2 * HourMs)))
                {
                    continue;
                }
                spans.Add(window);
                taken[victim] = spans;
                placed = attack;
            }
            if (placed is null)
            {
                skipped.Add(new(scenario.Name, $"found no time in the run where it fits on {string.Join(" or ", candidates.Select(c => c.Id))} without overlapping another attack or the run's end"));
                continue;
            }
            attacks.Add(placed);
        }
        return ([.. attacks.OrderBy(a => a.FirstMs).ThenBy(a => a.Scenario.Name, StringComparer.Ordinal)], [.. skipped]);
    }

    private static List<SimulatedKey> Candidates(SimulationPlan plan, Scenario scenario)
    {
        if (scenario.Name == ScenarioCatalog.ExpiredKeyUse)
        {
            return plan.RotatedOut is { } old ? [old] : [];
        }
        // Production keys in use for the whole run.
        var keys = plan.Keys.Where(k => !k.IsDevelopment && k.FromMs is null && k.UntilMs is null).ToList();
        return scenario.Name switch
        {
            ScenarioCatalog.EmbeddingsKeyChat => [.. keys.Where(k => k.Service.EmbeddingsOnly)],
            ScenarioCatalog.VolumeSameNetwork => [.. keys.Where(k => !k.Service.EmbeddingsOnly && k.Sites.Length == 1 && k.Peak >= 2.5)],
            ScenarioCatalog.CredentialStuffing => keys,
            _ => [.. keys.Where(k => !k.Service.EmbeddingsOnly)],
        };
    }

    private static string Unsuited(Scenario scenario) => scenario.Name switch
    {
        ScenarioCatalog.ExpiredKeyUse => "no key is rotated out: it needs the billing-insights service (--services 3 or more) and --days 2 or more",
        ScenarioCatalog.EmbeddingsKeyChat => "no embeddings-only production key: it needs the search-embed service (--services 2 or more)",
        ScenarioCatalog.VolumeSameNetwork => "no production chat key in a single region with 2.5 requests a minute or more",
        _ => "no production key of a chat service",
    };

    /// <summary>A start time for the scenario on the victim, or null when the drawn day does not suit it.</summary>
    private static long? StartFor(SimulationPlan plan, Scenario scenario, SimulatedKey victim, SimulationRandom r, bool longRun)
    {
        var days = plan.Options.Days;
        var firstDay = longRun ? SimulationOptions.FirstAttackDay : days / 2;
        var day = r.Between(firstDay, days - 1);
        var date = plan.Options.Start.AddDays(day);
        long? BusinessHours(int fromHour, int toHour)
        {
            var clock = victim.Sites[0].Clock;
            var local = date.AddHours(r.Between(fromHour, toHour)).AddMinutes(r.Next(60));
            if (local.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
            {
                return null;
            }
            var ms = (long)(clock.ToUtc(local) - DateTime.UnixEpoch).TotalMilliseconds;
            return ms >= plan.StartMs + (firstDay * DayMs) ? ms : null;
        }
        var anyTime = plan.StartMs + (day * DayMs) + (r.Next(24 * 60) * MinuteMs);
        switch (scenario.Name)
        {
            case ScenarioCatalog.VolumeBurstNewCountry:
                return BusinessHours(10, 14);
            case ScenarioCatalog.VolumeSameNetwork:
                return BusinessHours(10, 13);
            case ScenarioCatalog.ExpiredKeyUse:
                var expires = victim.Inventory.Expires ?? DateTime.MaxValue;
                var after = (long)(expires - DateTime.UnixEpoch).TotalMilliseconds + HourMs;
                var from = Math.Max(after, plan.StartMs + (firstDay * DayMs));
                var room = plan.EndMs - (2 * HourMs) - from;
                return room <= 0 ? null : from + (r.NextLong(room) / MinuteMs * MinuteMs);
            default:
                return anyTime;
        }
    }
}
