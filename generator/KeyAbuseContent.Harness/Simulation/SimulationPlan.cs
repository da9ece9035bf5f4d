using System.Collections.Immutable;
using System.Globalization;

namespace KeyAbuseContent.Harness.Simulation;

/// <summary>
/// A planned simulation: the organisation's services and keys (with their inventory), and the attacks with
/// all their events. Benign traffic is not held: <see cref="SimulatedKey.AppendMinute"/> generates it as the
/// writer streams. The same options give the same plan.
/// </summary>
public sealed class SimulationPlan
{
    private const long DayMs = 86_400_000;
    private const ulong PlanStream = 0x706C616E;

    private SimulationPlan(SimulationOptions options)
    {
        Options = options;
        StartMs = (long)(options.Start - DateTime.UnixEpoch).TotalMilliseconds;
        EndMs = StartMs + (options.Days * DayMs);
    }

    public SimulationOptions Options { get; }
    public long StartMs { get; }
    public long EndMs { get; }
    public ImmutableArray<ServiceSpec> Services { get; private set; } = [];
    public ImmutableArray<SimulatedKey> Keys { get; private set; } = [];
    public ImmutableArray<InjectedAttack> Attacks { get; private set; } = [];
    public ImmutableArray<SkippedScenario> Skipped { get; private set; } = [];
    public LiteralTable Literals { get; } = new();

    /// <summary>The key rotated out in the middle of the run, or null.</summary>
    public SimulatedKey? RotatedOut { get; private set; }

    /// <summary>The notable moments of the benign traffic (migration, launch, rotation, travel), for the README.</summary>
    public ImmutableArray<string> Moments { get; private set; } = [];

    /// <summary>Plans a simulation; the options must be valid (<see cref="SimulationOptions.Problems"/>).</summary>
    public static SimulationPlan Create(SimulationOptions options)
    {
        var problems = options.Problems();
        if (!problems.IsEmpty)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }
        var plan = new SimulationPlan(options);
        plan.PlanKeys();
        (plan.Attacks, plan.Skipped) = AttackPlanner.Plan(plan);
        return plan;
    }

    private DateTime Date(int day) => Options.Start.AddDays(day);

    private static long Ms(DateTime utc) => (long)(utc - DateTime.UnixEpoch).TotalMilliseconds;

    private void PlanKeys()
    {
        var r = new SimulationRandom(Options.Seed, PlanStream);
        var days = Options.Days;
        Services = ServiceCatalog.Take(Options.Services);
        var keys = new List<SimulatedKey>();
        var moments = new List<string>();
        var production = Math.Max(1, Options.KeysPerService - 1);
        var development = Options.KeysPerService - production;
        var travellers = 0;
        for (var si = 0; si < Services.Length; si++)
        {
            var service = Services[si];
            var sites = service.Sites.Select(s =>
            {
                var network = AddressPlan.ByName(s.Network);
                return new KeySite(network, AddressPlan.IndexOf(network), s.Clock, s.Weight, [.. Enumerable.Range(0, s.EgressAddresses).Select(_ => network.AddressIn(r))]);
            }).ToImmutableArray();
            for (var n = 1; n <= production; n++)
            {
                var key = Add(keys, $"{service.Name}-prod-{n}", service, "prod", false, sites, service.Peak / production * (0.85 + (0.3 * r.NextDouble())), r);
                if (service.MigratesModel)
                {
                    var at = Date(days * 45 / 100).AddHours(15);
                    key.MigrationMs = Ms(at);
                    if (n == 1)
                    {
                        moments.Add($"{at:yyyy-MM-dd HH:mm} UTC: {service.Name} starts moving from {service.Models[0]} to {service.Models[1]} (5% the first day, 25% the next two, then all; both declared)");
                    }
                }
                if (service.Launch != 1)
                {
                    var at = Date(Math.Max(1, days / 2)).AddHours(16);
                    key.LaunchMs = Ms(at);
                    if (n == 1)
                    {
                        moments.Add(string.Create(CultureInfo.InvariantCulture, $"{at:yyyy-MM-dd HH:mm} UTC: {service.Name} launches; its traffic grows {service.Launch}x within an hour and stays there"));
                    }
                }
                if (service.RotatesKey && n == 1 && days >= 2)
                {
                    Rotate(keys, key, service, sites, production, r, moments);
                }
            }
            for (var n = 1; n <= development; n++)
            {
                var env = si % 2 == 0 ? "dev" : "staging";
                var key = Add(keys, $"{service.Name}-{env}-{n}", service, env, true, [sites[0]], 1.5 + (1.5 * r.NextDouble()), r);
                (int, int)? travel = null;
                if (service.DeveloperTravels && n == 1 && travellers++ == 0)
                {
                    var first = Math.Min(days - 1, days * 55 / 100);
                    travel = (first, Math.Min(4, days - first));
                    moments.Add($"{Date(first):yyyy-MM-dd} to {Date(first + travel.Value.Item2 - 1):yyyy-MM-dd}: the owner of {key.Id} travels and uses it from a hotel network abroad");
                }
                key.Prepare(StartMs, days, Options.Seed, Literals, travel);
            }
        }
        foreach (var key in keys.Where(k => !k.IsDevelopment))
        {
            key.Prepare(StartMs, days, Options.Seed, Literals, null);
            if (key.Service.DeclaresCountries)
            {
                key.Inventory.Countries = [.. key.Sites.Select(s => s.Network.Country).Distinct()];
            }
            if (key.Service.DeclaresCidrs)
            {
                key.Inventory.Cidrs = [.. key.Sites.Select(s => s.Network.Cidr).Distinct()];
            }
        }
        Keys = [.. keys];
        Moments = [.. moments];
    }

    private SimulatedKey Add(List<SimulatedKey> keys, string id, ServiceSpec service, string env, bool development, ImmutableArray<KeySite> sites, double peak, SimulationRandom r)
    {
        var key = new SimulatedKey(keys.Count, id, service, env, development, sites, peak, Options.Seed);
        keys.Add(key);
        var inventory = key.Inventory;
        inventory.Created = Options.Start.AddDays(-r.Between(60, 360));
        inventory.Expires = Options.Start.AddDays(Options.Days + r.Between(60, 300));
        if (r.Next(2) == 0)
        {
            var rotated = Options.Start.AddDays(-r.Between(5, 55));
            inventory.Rotated = rotated < inventory.Created ? inventory.Created : rotated;
        }
        var busiest = service.NightlyBatch && !development ? peak * 15 : peak * 3;
        var rpm = ((long)(busiest * 0.6) + 1) * 10;
        inventory.QuotaRpm = rpm;
        inventory.QuotaTpm = rpm * (long)(service.InputMedian + service.OutputMedian) * 4;
        inventory.TokensPerDay = rpm * (long)(service.InputMedian + service.OutputMedian) * 600;
        inventory.MonthlyBudgetUsd = ((long)(busiest * 40) + 10) * 10;
        inventory.Labels["cost_center"] = "cc-" + (100 + (service.Team.Length * 7)).ToString(CultureInfo.InvariantCulture);
        if (service.Provider == "litellm")
        {
            inventory.ProviderKeyId = LiteLlmVirtualKey.TokenHash(LiteLlmVirtualKey.Generate(Options.Seed, key.Index));
        }
        return key;
    }

    // The service's key is replaced at 10:00 UTC on the middle day; the old key stops then and expires a
    // day later, as the inventory says.
    private void Rotate(List<SimulatedKey> keys, SimulatedKey old, ServiceSpec service, ImmutableArray<KeySite> sites, int production, SimulationRandom r, List<string> moments)
    {
        var day = Date(Options.Days / 2);
        var at = day.AddHours(10);
        var replacement = Add(keys, $"{service.Name}-prod-{production + 1}", service, "prod", false, sites, old.Peak, r);
        replacement.FromMs = Ms(at);
        old.UntilMs = Ms(at);
        old.Inventory.Rotated = day;
        old.Inventory.Expires = day.AddDays(1);
        old.Inventory.Labels["replaced_by"] = replacement.Id;
        replacement.Inventory.Created = day;
        replacement.Inventory.Rotated = null;
        replacement.Inventory.Expires = day.AddYears(1);
        replacement.Inventory.Labels["replaces"] = old.Id;
        RotatedOut = old;
        moments.Add($"{at:yyyy-MM-dd HH:mm} UTC: {old.Id} is rotated out for {replacement.Id}; the inventory gives it expiry {day.AddDays(1):yyyy-MM-dd}");
    }
}
