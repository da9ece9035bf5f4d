using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Simulation;

namespace KeyAbuseContent.Tests.Simulation;

/// <summary>A three-day run of the default organisation, written and loaded by the dataset loader once.</summary>
public sealed class ShortRun : IDisposable
{
    public ShortRun()
    {
        Result = Simulator.Run(new SimulationOptions { Days = 3 }, Scratch.Path);
        Dataset = DatasetLoader.Load(Scratch.Path);
    }

    public ScratchFolder Scratch { get; } = new();
    public SimulationResult Result { get; }
    public Dataset Dataset { get; }

    public void Dispose() => Scratch.Dispose();
}

/// <summary>A short run through the dataset loader: the contract of DESIGN.md's dataset folder.</summary>
public sealed class ShortRunTests(ShortRun run) : IClassFixture<ShortRun>
{
    [Fact]
    public void TheFolderLoadsWithZeroProblems()
    {
        Assert.Empty(run.Dataset.Problems);
        Assert.Equal(run.Result.Events, run.Dataset.Events.Length);
        Assert.Equal(run.Result.Keys, run.Dataset.Inventory.Length);
    }

    [Fact]
    public void EveryEventCarriesEveryFieldOfTheEventTable()
    {
        // Only the unknown fingerprints of credential stuffing lack a service and env, and models.list a model.
        var incomplete = run.Dataset.Events.Where(e =>
            (!e.KeyId.StartsWith("fp-", StringComparison.Ordinal) && (e.Service is null || e.Env is null))
            || e.ClientIp is null || e.Country is null || e.Asn is null || e.UserAgent is null || e.Provider is null || e.Operation is null
            || (e.Model is null && e.Operation != "models.list") || e.Status is null || e.LatencyMs is null || e.CostUsd is null || e.RequestId is null);
        Assert.Empty(incomplete);
    }

    [Fact]
    public void EveryAddressIsInTheGeoTableWithTheCountryAndAsnTheEventCarries()
    {
        var wrong = run.Dataset.Events.Where((e, i) => i % 101 == 0)
            .Where(e => run.Dataset.Geo.FirstOrDefault(g => KeyAbuseContent.Harness.Tables.GeoEnrichment.Contains(g, System.Net.IPAddress.Parse(e.ClientIp!))) is not { } range
                || range.Country != e.Country || range.Asn != e.Asn);
        Assert.Empty(wrong);
    }

    [Fact]
    public void KeyIdsAreIdsNeverSecrets() =>
        Assert.DoesNotContain(run.Dataset.Inventory.Select(k => k.Id).Concat(run.Dataset.Events.Select(e => e.KeyId).Distinct()), DatasetLoader.LooksLikeSecret);

    [Fact]
    public void ThreeDaysInjectOnlyWhatNeedsNoHistory() =>
        Assert.Equal(ScenarioCatalog.All.Where(s => !s.NeedsHistory).Select(s => s.Name).Order(), run.Dataset.Labels.Select(l => l.Scenario).Order());

    [Fact]
    public void TheReadmeSaysWhichScenariosWereSkippedAndWhy()
    {
        var readme = File.ReadAllText(Path.Combine(run.Scratch.Path, Simulator.ReadmeFile));
        Assert.All(ScenarioCatalog.All.Where(s => s.NeedsHistory), s => Assert.Contains($"`{s.Name}`: needs 15 days of history", readme, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryLabelGivesTheAddressesOfItsAttacksEvents()
    {
        foreach (var label in run.Dataset.Labels)
        {
            var from = run.Dataset.Events.Where(e => e.KeyId == label.KeyId && e.Time == label.Start).Select(e => e.ClientIp).ToList();
            Assert.NotEmpty(label.Addresses);
            Assert.Contains(label.Addresses, a => from.Contains(a));
            Assert.Equal(label.Addresses.Distinct().Count(), label.Addresses.Length);
        }
    }

    [Fact]
    public void EveryLabelSpansTheEventsOfItsKeyFromItsAttackersAddress()
    {
        foreach (var label in run.Dataset.Labels)
        {
            Assert.Contains(run.Dataset.Events, e => e.KeyId == label.KeyId && e.Time == label.Start);
            Assert.Contains(run.Dataset.Events, e => e.Time == label.End);
        }
    }
}
