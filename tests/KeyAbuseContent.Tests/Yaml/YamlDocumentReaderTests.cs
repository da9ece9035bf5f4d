using KeyAbuseContent.Diagnostics;
using KeyAbuseContent.Yaml;

namespace KeyAbuseContent.Tests.Yaml;

public class YamlDocumentReaderTests
{
    private static (YamlNode? Node, DiagnosticBag Diagnostics) Read(string text)
    {
        var diagnostics = new DiagnosticBag();
        return (YamlDocumentReader.Read("rule.yaml", text, diagnostics), diagnostics);
    }

    [Theory]
    [InlineData("NO")]
    [InlineData("no")]
    [InlineData("on")]
    [InlineData("Off")]
    [InlineData("yes")]
    [InlineData("y")]
    public void Yaml11BooleanWordsStayStrings(string word)
    {
        var (node, _) = Read($"value: {word}\n");
        var scalar = (YamlScalar)((YamlMapping)node!)["value"]!;
        Assert.Equal(ScalarType.String, scalar.Type);
        Assert.Equal(word, scalar.Text);
    }

    [Theory]
    [InlineData("true", ScalarType.Bool)]
    [InlineData("False", ScalarType.Bool)]
    [InlineData("~", ScalarType.Null)]
    [InlineData("null", ScalarType.Null)]
    [InlineData("42", ScalarType.Int)]
    [InlineData("0x1F", ScalarType.Int)]
    [InlineData("0o17", ScalarType.Int)]
    [InlineData("1.5", ScalarType.Float)]
    [InlineData(".inf", ScalarType.Float)]
    [InlineData("2026-12-07", ScalarType.String)]
    [InlineData("012:30", ScalarType.String)]
    public void PlainScalarsResolveWithTheCoreSchema(string text, ScalarType expected) =>
        Assert.Equal(expected, YamlDocumentReader.Resolve(text));

    [Fact]
    public void QuotedScalarsAreStrings()
    {
        var (node, _) = Read("value: \"42\"\n");
        Assert.Equal(ScalarType.String, ((YamlScalar)((YamlMapping)node!)["value"]!).Type);
    }

    [Fact]
    public void DuplicateKeysAreErrorsAtTheSecondKey()
    {
        var (node, diagnostics) = Read("a: 1\nb: 2\na: 3\n");
        Assert.Null(node);
        var d = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticCodes.DuplicateKey, d.Code);
        Assert.Equal((3, 1), (d.Position.Line, d.Position.Column));
        Assert.Contains("first at line 1", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NodesKeepTheirLineAndColumn()
    {
        var (node, _) = Read("outer:\n  inner: value\n");
        var inner = ((YamlMapping)((YamlMapping)node!)["outer"]!).Entry("inner")!;
        Assert.Equal((2, 3), (inner.Key.Start.Line, inner.Key.Start.Column));
        Assert.Equal((2, 10), (inner.Value.Start.Line, inner.Value.Start.Column));
    }

    [Fact]
    public void SyntaxErrorsNameTheirPosition()
    {
        var (node, diagnostics) = Read("a: [1, 2\nb: 3\n");
        Assert.Null(node);
        var d = Assert.Single(diagnostics.Items);
        Assert.Equal(DiagnosticCodes.YamlSyntax, d.Code);
        Assert.True(d.Position.Line >= 1);
    }

    [Fact]
    public void ASecondDocumentIsRefused()
    {
        var (node, diagnostics) = Read("a: 1\n---\nb: 2\n");
        Assert.Null(node);
        Assert.Contains(diagnostics.Items, d => d.Message.Contains("second YAML document", StringComparison.Ordinal));
    }

    [Fact]
    public void MergeKeysAreRefused()
    {
        var (_, diagnostics) = Read("base: &b {x: 1}\nother:\n  <<: *b\n");
        Assert.Contains(diagnostics.Items, d => d.Message.Contains("merge keys", StringComparison.Ordinal));
    }

    [Fact]
    public void AnOffsetInAQuotedScalarMapsToItsColumn()
    {
        var (node, _) = Read("where: \"status == 1\"\n");
        var scalar = (YamlScalar)((YamlMapping)node!)["where"]!;
        Assert.Equal(8 + 1 + 7, scalar.PositionOf(7).Column);
    }
}
