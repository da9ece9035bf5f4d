using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Simulation;

/// <summary><c>keyabuse simulate</c> as a user runs it: help, usage errors, exit codes, the folder it writes.</summary>
public sealed class SimulateCommandTests
{
    private static readonly string[] Files = ["events.jsonl.gz", "inventory.yaml", "labels.json", "geo.csv", "README.md"];

    private static (int Exit, string Output) Run(params string[] args)
    {
        var result = Keyabuse.Run(null, args);
        return (result.Exit, result.Output);
    }

    [Fact]
    public void HelpHasExamples()
    {
        var (exit, output) = Run("simulate", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("EXAMPLES:", output, StringComparison.Ordinal);
        Assert.Contains("keyabuse simulate --out", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownScenarioIsBadUsageThatListsTheValidOnes()
    {
        var (exit, output) = Run("simulate", "--out", Path.GetTempPath(), "--scenarios", "bogus");
        Assert.Equal(2, exit);
        Assert.Contains("unknown scenario 'bogus'", output, StringComparison.Ordinal);
        Assert.Contains("credential-stuffing", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingOutFolderIsBadUsage() => Assert.Equal(2, Run("simulate").Exit);

    [Fact]
    public void ItWritesTheDatasetFolderAndExitsZero()
    {
        using var scratch = new ScratchFolder();
        var (exit, output) = Run("simulate", "--out", scratch.Path, "--days", "1", "--services", "1", "--scenarios", "credential-stuffing");
        Assert.True(exit == 0, output);
        Assert.All(Files, f => Assert.True(File.Exists(Path.Combine(scratch.Path, f)), f));
        Assert.Contains("1 labelled attack", output, StringComparison.Ordinal);
    }

    [Fact]
    public void KeysInAllAreSpreadOverTheServices()
    {
        using var scratch = new ScratchFolder();
        var (exit, output) = Run("simulate", "--out", scratch.Path, "--days", "1", "--services", "2", "--keys", "4", "--scenarios", "none");
        Assert.True(exit == 0, output);
        var inventory = File.ReadAllLines(Path.Combine(scratch.Path, "inventory.yaml"));
        Assert.Equal(4, inventory.Count(l => l.TrimStart().StartsWith("- id:", StringComparison.Ordinal)));
    }

    [Fact]
    public void KeysThatDoNotDivideAmongTheServicesAreBadUsage()
    {
        var (exit, output) = Run("simulate", "--out", Path.GetTempPath(), "--services", "3", "--keys", "4");
        Assert.Equal(2, exit);
        Assert.Contains("--keys 4: a multiple of --services (3)", output, StringComparison.Ordinal);
    }
}
