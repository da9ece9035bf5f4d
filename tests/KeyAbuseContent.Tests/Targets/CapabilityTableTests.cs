using KeyAbuseContent.Targets.Esql;

namespace KeyAbuseContent.Tests.Targets;

public class CapabilityTableTests
{
    [Fact]
    public void TheReadmeTableIsTheGeneratorsTable()
    {
        var readme = File.ReadAllLines(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var start = Array.FindIndex(readme, l => l == "| construct | from |");
        var documented = readme.Skip(start + 2).TakeWhile(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();
        var expected = EsqlCapabilities.Table().Select(c => $"| `{c.Construct}` | {c.Version} |").ToList();
        Assert.Equal(expected, documented);
    }

    [Fact]
    public void TheTargetIsElastic93() => Assert.Equal(new Version(9, 3), EsqlCapabilities.Target);

    [Fact]
    public void InlineStatsNeedsTheTarget()
    {
        var query = new EsqlQuery([
            new EsqlFrom(["logs-x"], []),
            new EsqlStats([EsqlNodes.As("n", EsqlNodes.Call("COUNT", new EsqlStar()))], [EsqlNodes.Bare(EsqlNodes.Col("k"))], Inline: true)]);
        Assert.Equal(new Version(9, 3), EsqlRenderer.Render(query).MinimumVersion);
    }

    [Fact]
    public void APlainStatsQueryNeedsOnlyTheBaseline()
    {
        var query = new EsqlQuery([
            new EsqlFrom(["logs-x"], []),
            new EsqlStats([EsqlNodes.As("n", EsqlNodes.Call("COUNT", new EsqlStar()))], [EsqlNodes.Bare(EsqlNodes.Col("k"))])]);
        Assert.Equal(EsqlCapabilities.Baseline, EsqlRenderer.Render(query).MinimumVersion);
    }
}
