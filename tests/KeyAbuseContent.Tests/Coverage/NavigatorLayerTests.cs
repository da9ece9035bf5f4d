using System.Text.Json;
using KeyAbuseContent.Coverage;
using KeyAbuseContent.Tests.Support;
using static KeyAbuseContent.Tests.Coverage.CoverageFixtures;

namespace KeyAbuseContent.Tests.Coverage;

/// <summary>The ATT&amp;CK Navigator layers keyabuse coverage writes (layer format 4.5).</summary>
public class NavigatorLayerTests
{
    private static CoverageReport Report()
    {
        using var library = new TestLibrary();
        library.Rule("volume/rule-a.yaml", StableRule("rule-a", "traffic-spike", "11111111-2222-4333-8444-555555555501", "[attack.t1496.004, atlas.aml.t0034, owasp.llm10]"));
        return CoverageAnalysis.Analyze(new CoverageInputs(Load(library), Results(Passing("rule-a"))), NoResponse);
    }

    [Fact]
    public void TheAttackLayerIsLayerFormat45JsonForEnterpriseAttack()
    {
        using var doc = JsonDocument.Parse(CoverageDocuments.Files(Report())["attack-navigator.json"]);
        var root = doc.RootElement;
        Assert.Equal("4.5", root.GetProperty("versions").GetProperty("layer").GetString());
        Assert.Equal("enterprise-attack", root.GetProperty("domain").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("name").GetString()));
        var scored = root.GetProperty("techniques").EnumerateArray().Single(t => t.GetProperty("techniqueID").GetString() == "T1496.004");
        Assert.Equal(1, scored.GetProperty("score").GetInt32());
        Assert.Equal("rule-a (tested)", scored.GetProperty("comment").GetString());
    }

    [Fact]
    public void ASubTechniquesParentIsExpandedSoTheScoreShows()
    {
        using var doc = JsonDocument.Parse(CoverageDocuments.Files(Report())["attack-navigator.json"]);
        var parent = doc.RootElement.GetProperty("techniques").EnumerateArray().Single(t => t.GetProperty("techniqueID").GetString() == "T1496");
        Assert.True(parent.GetProperty("showSubtechniques").GetBoolean());
        Assert.False(parent.TryGetProperty("score", out _));
    }

    [Fact]
    public void TheAtlasLayerIsItsOwnLayerOverTheAtlasCollection()
    {
        using var doc = JsonDocument.Parse(CoverageDocuments.Files(Report())["atlas-navigator.json"]);
        var root = doc.RootElement;
        Assert.Equal(("atlas-atlas", "4.5"), (root.GetProperty("domain").GetString(), root.GetProperty("versions").GetProperty("layer").GetString()));
        Assert.Equal(NavigatorLayer.AtlasCollection, root.GetProperty("customDataURL").GetString());
        Assert.Equal("AML.T0034", Assert.Single(root.GetProperty("techniques").EnumerateArray()).GetProperty("techniqueID").GetString());
    }

    [Fact]
    public void TheNavigatorFormatIsAListOfBothLayers()
    {
        using var doc = JsonDocument.Parse(CoverageDocuments.NavigatorList(Report()));
        Assert.Equal("enterprise-attack|atlas-atlas", string.Join("|", doc.RootElement.EnumerateArray().Select(l => l.GetProperty("domain").GetString())));
    }
}
