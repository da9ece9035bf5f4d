using System.Security.Cryptography;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Simulation;

namespace KeyAbuseContent.Tests.Simulation;

/// <summary>The simulator's dataset folder: repeatable bytes, the loader's contract, labels that match the injected events.</summary>
public sealed class SimulatorTests(SimulatedOrganisation organisation) : IClassFixture<SimulatedOrganisation>
{
    private static readonly string[] Files = [Simulator.EventsFile, Simulator.InventoryFile, Simulator.LabelsFile, Simulator.GeoFile, Simulator.ReadmeFile];

    private static Dictionary<string, string> Hashes(string folder) =>
        Files.ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, f)))));

    [Fact]
    public void TheSameSeedGivesTheSameBytesInEveryFile()
    {
        using var scratch = new ScratchFolder();
        Simulator.Run(SimulatedOrganisation.Options, scratch.Path);
        Assert.Equal(Hashes(organisation.Folder), Hashes(scratch.Path));
    }

    [Fact]
    public void ADifferentSeedGivesDifferentEvents()
    {
        using var scratch = new ScratchFolder();
        Simulator.Run(new SimulationOptions { Days = 2, Services = 2, Seed = 7 }, scratch.Sub("7"));
        Simulator.Run(new SimulationOptions { Days = 2, Services = 2, Seed = 8 }, scratch.Sub("8"));
        Assert.NotEqual(Hashes(scratch.Sub("7"))[Simulator.EventsFile], Hashes(scratch.Sub("8"))[Simulator.EventsFile]);
    }

    [Fact]
    public void TheGzipHeaderHasNoModificationTime()
    {
        var header = File.ReadAllBytes(Path.Combine(organisation.Folder, Simulator.EventsFile)).AsSpan(0, 10).ToArray();
        Assert.Equal([0x1f, 0x8b, 8], header[..3]);
        Assert.Equal([0, 0, 0, 0], header[4..8]);
    }

    [Fact]
    public void TheMetadataFilesLoadWithZeroProblems()
    {
        Assert.Empty(organisation.Metadata.Problems);
        Assert.Equal(organisation.Plan.Keys.Length, organisation.Metadata.Inventory.Length);
        Assert.Equal(AddressPlan.Networks.Length, organisation.Metadata.Geo.Length);
    }

    [Fact]
    public void EveryLabelNamesAKeyOfTheInventory()
    {
        var ids = organisation.Metadata.Inventory.Select(k => k.Id).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(organisation.Metadata.Labels);
        Assert.All(organisation.Metadata.Labels, l => Assert.Contains(l.KeyId, ids));
    }

    [Fact]
    public void EachLabelStartsAndEndsWithItsInjectedEvents()
    {
        var byId = organisation.Events.ToDictionary(e => e.RequestId, StringComparer.Ordinal);
        foreach (var (attack, ids) in organisation.Injected)
        {
            var label = Assert.Single(organisation.Metadata.Labels, l => l.Scenario == attack.Scenario.Name);
            var times = ids.Select(id => byId[id].Time).ToList();
            Assert.Equal(label.Start, times.Min());
            Assert.Equal(label.End, times.Max());
            Assert.Contains(ids, id => byId[id].KeyId == label.KeyId);
        }
    }

    [Fact]
    public void EveryScenarioIsInjectedInASixteenDayRun()
    {
        Assert.Empty(organisation.Plan.Skipped);
        Assert.Equal(ScenarioCatalog.All.Select(s => s.Name).Order(), organisation.Metadata.Labels.Select(l => l.Scenario).Order());
    }

    [Fact]
    public void NoAttackStartsBeforeDayFifteenOrOutlivesTheRun()
    {
        var earliest = SimulatedOrganisation.Options.Start.AddDays(SimulationOptions.FirstAttackDay);
        var end = SimulatedOrganisation.Options.Start.AddDays(SimulatedOrganisation.Options.Days);
        Assert.All(organisation.Metadata.Labels, l => Assert.True(l.Start >= earliest && l.End < end, $"{l.Scenario} {l.Start:O}-{l.End:O}"));
    }

    [Fact]
    public void AttacksOnTheSameKeyDoNotOverlap()
    {
        foreach (var key in organisation.Metadata.Labels.GroupBy(l => l.KeyId))
        {
            var spans = key.OrderBy(l => l.Start).ToList();
            for (var i = 1; i < spans.Count; i++)
            {
                Assert.True(spans[i].Start > spans[i - 1].End, $"{spans[i - 1].Scenario} and {spans[i].Scenario} overlap on {key.Key}");
            }
        }
    }

    [Fact]
    public void WeekendsAreWellBelowWeekdaysOnSeasonalServices()
    {
        var injected = organisation.Injected.SelectMany(a => a.RequestIds).ToHashSet(StringComparer.Ordinal);
        foreach (var key in new[] { "support-bot-prod-1", "search-embed-prod-1", "sales-copilot-prod-1" })
        {
            var perDay = organisation.Events.Where(e => e.KeyId == key && !injected.Contains(e.RequestId))
                .GroupBy(e => e.Time.Date).Where(g => g.Key < SimulatedOrganisation.Options.Start.AddDays(7))
                .ToDictionary(g => g.Key.DayOfWeek, g => g.Count());
            var weekday = new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday }.Average(d => perDay[d]);
            var weekend = (perDay[DayOfWeek.Saturday] + perDay[DayOfWeek.Sunday]) / 2.0;
            Assert.True(weekend < 0.6 * weekday, $"{key}: weekend {weekend:0} a day, weekdays {weekday:0}");
        }
    }

    [Fact]
    public void TheNightlyBatchRunsFarAboveTheDaytimeRate()
    {
        var minutes = organisation.Events.Where(e => e.KeyId == "nightly-etl-prod-1")
            .GroupBy(e => new DateTime(e.Time.Ticks - (e.Time.Ticks % TimeSpan.TicksPerMinute), DateTimeKind.Utc)).ToList();
        var night = minutes.Where(g => g.Key.Hour is 1).Average(g => g.Count());
        var day = minutes.Where(g => g.Key.Hour is >= 14 and < 20 && g.Key.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).Average(g => g.Count());
        Assert.True(night > 5 * day, $"01:00 UTC {night:0.0} a minute, afternoons {day:0.0}");
    }

    [Fact]
    public void TheSameNetworkAttackComesFromTheVictimsCountryAndAsn()
    {
        var attack = organisation.Plan.Attacks.Single(a => a.Scenario.Name == ScenarioCatalog.VolumeSameNetwork);
        var ids = organisation.Injected.Single(a => a.Attack == attack).RequestIds;
        var site = attack.Victim.Sites[0].Network;
        Assert.All(organisation.Events.Where(e => ids.Contains(e.RequestId)), e => Assert.Equal((site.Country, site.Asn), (e.Country, e.Asn)));
    }

    [Fact]
    public void OtherAttacksComeFromCountriesTheVictimNeverUses()
    {
        foreach (var (attack, ids) in organisation.Injected.Where(a => a.Attack.Scenario.Name != ScenarioCatalog.VolumeSameNetwork))
        {
            var own = attack.Victim.Sites.Select(s => s.Network.Country).ToHashSet(StringComparer.Ordinal);
            Assert.DoesNotContain(organisation.Events.Where(e => ids.Contains(e.RequestId)), e => own.Contains(e.Country));
        }
    }

    [Fact]
    public void TheEventsFileIsInTimeOrder()
    {
        var times = organisation.Events.Select(e => e.Time).ToList();
        Assert.True(times.SequenceEqual(times.Order()));
    }

    [Fact]
    public void TheReadmeGivesTheExactCommandAndTheLicence()
    {
        var readme = File.ReadAllText(Path.Combine(organisation.Folder, Simulator.ReadmeFile));
        Assert.Contains("keyabuse simulate --out DIR --days 16 --services 7 --keys-per-service 1 --seed 7 --start 2026-10-26 --scenarios all", readme, StringComparison.Ordinal);
        Assert.Contains("Apache-2.0", readme, StringComparison.Ordinal);
        Assert.Contains("Synthetic", readme, StringComparison.Ordinal);
    }
}
