using KeyAbuseContent.Build;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Targets;

public class PackWriterTests
{
    [Fact]
    public void AFailedBuildIsNeverWritten()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        library.Rule("auth/test-broken.yaml", RuleText.Threshold(name: "test-broken", id: "11111111-2222-4333-8444-999999999999", where: "nope == 1"));
        var build = library.Build();
        Assert.False(build.Succeeded);
        Assert.Throws<InvalidOperationException>(() => PackWriter.Write(build, Path.Combine(library.Root, "dist")));
        Assert.False(Directory.Exists(Path.Combine(library.Root, "dist")));
    }

    [Fact]
    public void AWrittenBundleReplacesThePreviousOneWhole()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        var dist = Path.Combine(library.Root, "dist");
        Directory.CreateDirectory(dist);
        File.WriteAllText(Path.Combine(dist, "left-over.txt"), "from an older build");
        PackWriter.Write(library.Build(), dist);
        Assert.False(File.Exists(Path.Combine(dist, "left-over.txt")));
        Assert.True(File.Exists(Path.Combine(dist, "sentinel", "rules", "test-auth-burst.yaml")));
        Assert.True(File.Exists(Path.Combine(dist, "elastic", "rules.ndjson")));
        Assert.True(File.Exists(Path.Combine(dist, "sigma", "test-auth-burst.yml")));
        Assert.Empty(Directory.GetDirectories(library.Root, ".dist*"));
    }

    [Fact]
    public void TheSameRulesGiveTheSameBytes()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold());
        Assert.Equal(PackWriter.Files(library.Build()), PackWriter.Files(library.Build()));
    }
}
