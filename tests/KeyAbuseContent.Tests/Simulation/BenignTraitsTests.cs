using System.Globalization;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Simulation;

namespace KeyAbuseContent.Tests.Simulation;

/// <summary>The fields of an event line the benign-trait tests look at.</summary>
public sealed record TraitEvent(DateTime Time, string KeyId, string Country, long Asn, string Model, string Operation, int Status, bool Injected);

/// <summary>
/// Three weeks of the default six services with a production and a development key each (so the travelling
/// developer's key exists) and every scenario, written once and scanned; the inventory and labels through the loader.
/// </summary>
public sealed class BenignTraitsRun : IDisposable
{
    public static readonly SimulationOptions Options = new() { Days = 21, Services = 6, KeysPerService = 2, Seed = 7 };

    public BenignTraitsRun()
    {
        Plan = SimulationPlan.Create(Options);
        Simulator.Write(Plan, Scratch.Path);
        var injected = Plan.Attacks.SelectMany(a => a.Events.Items.ToArray().Select(e => EventLineWriter.RequestId(e.RequestId))).ToHashSet(StringComparer.Ordinal);
        Events = [.. SimulatedOrganisation.ReadLines(Path.Combine(Scratch.Path, Simulator.EventsFile)).Select(line => Scan(line, injected))];
        var meta = Scratch.Sub("meta");
        Directory.CreateDirectory(meta);
        foreach (var file in new[] { Simulator.InventoryFile, Simulator.LabelsFile, Simulator.GeoFile })
        {
            File.Copy(Path.Combine(Scratch.Path, file), Path.Combine(meta, file));
        }
        Metadata = DatasetLoader.Load(meta);
    }

    public ScratchFolder Scratch { get; } = new();
    public SimulationPlan Plan { get; }
    public IReadOnlyList<TraitEvent> Events { get; }
    public Dataset Metadata { get; }

    /// <summary>The benign events of a key (the attacks' injected events left out).</summary>
    public List<TraitEvent> Benign(string keyId) => [.. Events.Where(e => e.KeyId == keyId && !e.Injected)];

    /// <summary>Benign events of a key a day, by day of the run.</summary>
    public int[] PerDay(string keyId)
    {
        var counts = new int[Options.Days];
        foreach (var e in Benign(keyId))
        {
            counts[(int)(e.Time - Options.Start).TotalDays]++;
        }
        return counts;
    }

    public static bool IsWeekday(int day) => Options.Start.AddDays(day).DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    private static TraitEvent Scan(string line, HashSet<string> injected) => new(
        DateTime.Parse(Field(line, "time"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal),
        Field(line, "key_id"), Field(line, "country"), long.Parse(Field(line, "asn"), CultureInfo.InvariantCulture),
        Field(line, "model"), Field(line, "operation"), int.Parse(Field(line, "status"), CultureInfo.InvariantCulture),
        injected.Contains(Field(line, "request_id")));

    private static string Field(string line, string name)
    {
        var at = line.IndexOf("\"" + name + "\":", StringComparison.Ordinal) + name.Length + 3;
        if (line[at] == '"')
        {
            return line[(at + 1)..line.IndexOf('"', at + 1)];
        }
        var end = line.IndexOfAny([',', '}'], at);
        return line[at..end];
    }

    public void Dispose() => Scratch.Dispose();
}

/// <summary>
/// The benign traits of issue 14 §1 that embarrass a naive rule, each asserted on the generated events: growth,
/// a launch, three regions, an embeddings-only service, a model migration, a travelling developer, retry storms.
/// </summary>
public sealed class BenignTraitsTests(BenignTraitsRun run) : IClassFixture<BenignTraitsRun>
{
    [Fact]
    public void AGrowingServiceIsBusierInItsThirdWeekThanInItsFirst()
    {
        // assistant grows 1.2% a day: the third week should be about 1.012^14 = 1.18 times the first.
        var perDay = run.PerDay("assistant-prod-1");
        double first = perDay[..7].Sum(), third = perDay[14..21].Sum();
        Assert.InRange(third / first, 1.08, 1.35);
    }

    [Fact]
    public void ALaunchTriplesTheDailyTrafficForGood()
    {
        // sales-copilot launches at 16:00 UTC on the middle day (day 10) and stays at 3x: every later day is about three
        // times the same weekday before it.
        var perDay = run.PerDay("sales-copilot-prod-1");
        const int launch = 10;
        Assert.Equal(BenignTraitsRun.Options.Start.AddDays(launch).AddHours(16), DateTime.UnixEpoch.AddMilliseconds(run.Plan.Keys.Single(k => k.Id == "sales-copilot-prod-1").LaunchMs!.Value));
        var ratios = new List<double>();
        for (var day = launch + 1; day < BenignTraitsRun.Options.Days; day++)
        {
            var before = day - (7 * (((day - launch) / 7) + 1));
            ratios.Add(perDay[day] / (double)perDay[before]);
        }
        Assert.InRange(ratios.Average(), 2.5, 3.5);
        Assert.All(ratios, r => Assert.InRange(r, 2.0, 4.5));
    }

    [Fact]
    public void TheThreeRegionServiceRunsFromThreeCountriesAndThreeCloudAsns()
    {
        var benign = run.Benign("assistant-prod-1");
        var places = benign.GroupBy(e => (e.Country, e.Asn)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([("IE", 16509L), ("SG", 8075L), ("US", 14618L)], places.Keys.Order());
        Assert.All(places.Values, n => Assert.True(n > benign.Count / 10, $"{n} of {benign.Count} events"));
    }

    [Fact]
    public void TheEmbeddingsOnlyServiceOnlyCallsEmbeddingsOnItsEmbeddingModel()
    {
        var benign = run.Benign("search-embed-prod-1").Concat(run.Benign("search-embed-staging-1")).ToList();
        Assert.NotEmpty(benign);
        Assert.All(benign, e => Assert.Equal(("embeddings", "text-embedding-3-small"), (e.Operation, e.Model)));
    }

    [Fact]
    public void TheModelMigrationMovesFromTheFirstDeclaredModelToTheSecond()
    {
        // support-bot moves from gpt-4o to gpt-4.1 at 15:00 UTC on day 21 * 45 / 100 = 9 (5% the first day, 25% the
        // next two, then all), keeping a share on gpt-4o-mini; the inventory declares all three.
        var migration = BenignTraitsRun.Options.Start.AddDays(9).AddHours(15);
        var benign = run.Benign("support-bot-prod-1");
        var before = benign.Where(e => e.Time < migration && e.Status == 200).GroupBy(e => e.Model).ToDictionary(g => g.Key, g => g.Count());
        var after = benign.Where(e => e.Time >= migration.AddDays(3) && e.Status == 200).GroupBy(e => e.Model).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["gpt-4o", "gpt-4o-mini"], before.Keys.Order());
        Assert.Equal(["gpt-4.1", "gpt-4o-mini"], after.Keys.Order());
        Assert.True(before["gpt-4o"] > 3 * before["gpt-4o-mini"] && after["gpt-4.1"] > 3 * after["gpt-4o-mini"]);
        Assert.Equal(["gpt-4o", "gpt-4.1", "gpt-4o-mini"], run.Metadata.Inventory.Single(k => k.Id == "support-bot-prod-1").Models.ToArray());
    }

    [Fact]
    public void TheDevelopersKeyIsUsedFromOfficeAndHomeAndFromJapanOnlyWhileTravellingUnlabelled()
    {
        // The owner of support-bot-dev-1 works from the office (Comcast) or home (AT&T) and travels to Japan
        // (SoftBank) for days 21 * 55 / 100 = 11 to 14.
        var benign = run.Benign("support-bot-dev-1");
        var abroad = benign.Where(e => e.Country != "US").ToList();
        Assert.Equal([7018L, 7922L], benign.Where(e => e.Country == "US").Select(e => e.Asn).Distinct().Order());
        Assert.NotEmpty(abroad);
        Assert.All(abroad, e => Assert.Equal(("JP", 17676L), (e.Country, e.Asn)));
        var days = abroad.Select(e => (int)(e.Time - BenignTraitsRun.Options.Start).TotalDays).ToHashSet();
        Assert.All(days, d => Assert.InRange(d, 11, 14));
        Assert.All(benign.Where(e => days.Contains((int)(e.Time - BenignTraitsRun.Options.Start).TotalDays)), e => Assert.Equal("JP", e.Country));
        Assert.DoesNotContain(run.Metadata.Labels, l => l.KeyId == "support-bot-dev-1");
    }

    [Fact]
    public void RetriesAnswer429InShortBurstsThatNoLabelCovers()
    {
        // Outside a nightly batch, a benign 429 only comes from a retry storm: 2 to 6 minutes of business hours on
        // about a third of the weekdays. Cluster each key's 429s (a gap of over 10 minutes starts a new burst).
        foreach (var key in new[] { "support-bot-prod-1", "search-embed-prod-1", "assistant-prod-1", "sales-copilot-prod-1" })
        {
            var throttled = run.Benign(key).Where(e => e.Status == 429).Select(e => e.Time).Order().ToList();
            var bursts = new List<List<DateTime>>();
            foreach (var t in throttled)
            {
                if (bursts.Count == 0 || t - bursts[^1][^1] > TimeSpan.FromMinutes(10))
                {
                    bursts.Add([]);
                }
                bursts[^1].Add(t);
            }
            Assert.InRange(bursts.Count, 3, 12);
            Assert.All(bursts, b => Assert.True(b[^1] - b[0] <= TimeSpan.FromMinutes(6) && b.Count >= 3, $"{key}: {b.Count} 429s from {b[0]:O} to {b[^1]:O}"));
            Assert.DoesNotContain(run.Metadata.Labels, l => l.KeyId == key && bursts.Any(b => b[0] <= l.End && b[^1] >= l.Start));
        }
    }
}
