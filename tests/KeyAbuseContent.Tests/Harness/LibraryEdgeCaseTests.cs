using KeyAbuseContent.Build;
using KeyAbuseContent.Harness.Datasets;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>
/// Issue 15's bad input: a key with no history, a key only in the inventory, a day without traffic, clock skew
/// between two sources of one key, and events delivered more than once (<c>test-data/edge/</c>, written by
/// <c>make_edge_datasets.py</c>). The whole library runs over each as Sentinel and Elastic run it: nothing crashes,
/// nothing alerts, and the two targets return the same rows on every run.
/// </summary>
public class LibraryEdgeCaseTests
{
    private static readonly Lazy<PackBuild> Pack = new(() => new PackBuilder(TestPaths.RepositoryRoot, TestPaths.Detections).Build());

    private static PackRun Run(string name)
    {
        Assert.True(Pack.Value.Succeeded, string.Join("\n", Pack.Value.Diagnostics));
        var dataset = DatasetLoader.Load(Path.Combine(TestPaths.TestData, "edge", name));
        Assert.NotEmpty(dataset.Events);
        return new PackRunner(new RunOptions(), TestPaths.Detections).Run(Pack.Value.Rules, dataset, sentinel: true, elastic: true, parity: true);
    }

    private static void Quiet(PackRun run)
    {
        Assert.Empty(run.Alerts.Select(a => $"{a.Target} {a.Rule} {a.Time:O}"));
        Assert.Empty(run.Parity.Select(p => $"{p.Rule} {p.At:O}: {p.Message}"));
    }

    [Fact]
    public void AKeyWithNoHistoryRaisesNothingAlone()
    {
        var run = Run("new-key");
        Assert.Contains(run.Dataset.Events, e => e.KeyId == "svc-new-key");
        Quiet(run);
    }

    [Fact]
    public void AKeyOnlyInTheInventoryRaisesNothing()
    {
        var run = Run("inventory-only-key");
        Assert.Contains(run.Dataset.Inventory, k => k.Id == "svc-support-prod");
        Assert.DoesNotContain(run.Dataset.Events, e => e.KeyId == "svc-support-prod");
        Quiet(run);
    }

    [Fact]
    public void ADayWithoutTrafficRaisesNothing()
    {
        var run = Run("silent-day");
        Assert.DoesNotContain(run.Dataset.Events, e => e.Time.Date == new DateTime(2026, 11, 18));
        Quiet(run);
    }

    [Fact]
    public void ClockSkewBetweenTwoSourcesRaisesNothing()
    {
        var run = Run("clock-skew");
        Assert.Empty(run.Dataset.Problems);
        Quiet(run);
    }

    [Fact]
    public void EventsDeliveredMoreThanOnceAreCountedOnceAndRaiseNothing()
    {
        var run = Run("duplicate-request-ids");
        Assert.True(run.Dataset.Problems.Length > 100, $"{run.Dataset.Problems.Length} problems");
        Assert.All(run.Dataset.Problems, p => Assert.StartsWith("duplicate request_id", p.Message, StringComparison.Ordinal));
        Assert.Equal(run.Dataset.Events.Length, run.Dataset.Events.Select(e => e.RequestId).Distinct().Count());
        Quiet(run);
    }
}
