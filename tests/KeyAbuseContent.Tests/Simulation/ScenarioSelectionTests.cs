using KeyAbuseContent.Harness.Simulation;

namespace KeyAbuseContent.Tests.Simulation;

/// <summary>Choosing scenarios and run lengths: each alone, none, short runs without history.</summary>
public sealed class ScenarioSelectionTests
{
    public static TheoryData<string> Scenarios => [.. ScenarioCatalog.All.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void EachScenarioCanBeSelectedAlone(string scenario)
    {
        var plan = SimulationPlan.Create(new SimulationOptions { Days = 20, Services = 6, KeysPerService = 1, Scenarios = [scenario] });
        Assert.Empty(plan.Skipped);
        Assert.Equal(scenario, Assert.Single(plan.Attacks).Scenario.Name);
    }

    [Fact]
    public void BenignOnlyOutputHasNoLabels()
    {
        using var scratch = new ScratchFolder();
        var result = Simulator.Run(new SimulationOptions { Days = 2, Services = 3, Scenarios = SimulationOptions.ParseScenarios("none") }, scratch.Path);
        Assert.Empty(result.Labels);
        Assert.Equal("[]\n", File.ReadAllText(Path.Combine(scratch.Path, Simulator.LabelsFile)));
    }

    [Fact]
    public void ChoosingScenariosNeverChangesBenignTraffic()
    {
        using var scratch = new ScratchFolder();
        Simulator.Run(new SimulationOptions { Days = 2, Services = 3, Scenarios = [] }, scratch.Sub("none"));
        Simulator.Run(new SimulationOptions { Days = 2, Services = 3 }, scratch.Sub("all"));
        var all = SimulatedOrganisation.ReadLines(Path.Combine(scratch.Sub("all"), Simulator.EventsFile)).ToHashSet(StringComparer.Ordinal);
        var benign = SimulatedOrganisation.ReadLines(Path.Combine(scratch.Sub("none"), Simulator.EventsFile)).ToList();
        Assert.NotEmpty(benign);
        Assert.True(all.Count > benign.Count);
        Assert.All(benign, line => Assert.Contains(line, all));
    }

    [Fact]
    public void AnUnknownScenarioIsAProblemThatListsTheValidOnes()
    {
        var problem = Assert.Single(new SimulationOptions { Scenarios = SimulationOptions.ParseScenarios("credential-stuffing,bogus") }.Problems());
        Assert.Contains("'bogus'", problem, StringComparison.Ordinal);
        Assert.All(ScenarioCatalog.All, s => Assert.Contains(s.Name, problem, StringComparison.Ordinal));
    }

    [Fact]
    public void AScenarioWithoutASuitableKeyIsSkippedWithItsReason()
    {
        var plan = SimulationPlan.Create(new SimulationOptions { Days = 20, Services = 1, Scenarios = [ScenarioCatalog.EmbeddingsKeyChat] });
        Assert.Empty(plan.Attacks);
        Assert.Contains("search-embed", Assert.Single(plan.Skipped).Reason, StringComparison.Ordinal);
    }
}
