using KeyAbuseContent.Targets.Esql;
using KeyAbuseContent.Targets.Kql;
using KeyAbuseContent.Targets.Sentinel;
using KeyAbuseContent.Tests.Expressions;
using KeyAbuseContent.Tests.Support;

namespace KeyAbuseContent.Tests.Targets;

/// <summary>Values from rules that would break out of a query string are escaped, never injected.</summary>
public class EscapingTests
{
    private const string Hostile = "x\" | where true | extend y = \"\n\\";

    [Fact]
    public void KqlStringLiteralsEscapeQuotesBackslashesAndNewlines() =>
        Assert.Equal("\"x\\\" | where true | extend y = \\\"\\n\\\\\"", KqlRenderer.StringLiteral(Hostile));

    [Fact]
    public void EsqlStringLiteralsEscapeQuotesBackslashesAndNewlines() =>
        Assert.Equal("\"x\\\" | where true | extend y = \\\"\\n\\\\\"", EsqlRenderer.StringLiteral(Hostile));

    [Fact]
    public void KqlNamesThatAreNotIdentifiersAreBracketed() => Assert.Equal("['a b\\'c']", KqlRenderer.Name("a b'c"));

    [Fact]
    public void KqlKeywordsUsedAsNamesAreBracketed() => Assert.Equal("['project']", KqlRenderer.Name("project"));

    [Fact]
    public void EsqlNamesThatAreNotIdentifiersAreBacktickQuoted() => Assert.Equal("`a``b c`", EsqlRenderer.Name("a`b c"));

    [Fact]
    public void ControlCharactersAreRefusedNotWritten() =>
        Assert.Throws<ArgumentException>(() => KqlRenderer.StringLiteral("a\u0001b"));

    [Fact]
    public void AHostileFilterValueStaysOneLiteralInKql() =>
        Assert.Equal("Model == \"gpt\\\" | take 1 //\"", ExpressionTestKit.Kql("model == 'gpt\" | take 1 //'"));

    [Fact]
    public void AHostileFilterValueStaysOneLiteralInEsql() =>
        Assert.Equal("gen_ai.request.model == \"gpt\\\" | LIMIT 1 //\"", ExpressionTestKit.Esql("model == 'gpt\" | LIMIT 1 //'"));

    [Fact]
    public void ArmStringsStartingWithABracketAreNotExpressions() =>
        Assert.Equal("[[parameters('x')]", SentinelArmTemplate.Str("[parameters('x')]").GetValue<string>());

    [Fact]
    public void AHostileRuleCompilesAndItsKqlStillBinds()
    {
        using var library = new TestLibrary();
        library.Rule("auth/test-auth-burst.yaml", RuleText.Threshold(
            where: "user_agent == 'evil\" | project-away KeyId; print \"x' and status == 401",
            title: "Key {key_id}: \\\"{failures}\\\" | pipes; and 'quotes'"));
        var build = library.Build();
        Assert.Empty(TestLibrary.Errors(build));
        var query = Assert.Single(build.Rules).Sentinel.Rule.Query;
        Assert.Contains("HttpUserAgent == \"evil\\\" | project-away KeyId; print \\\"x\"", query, StringComparison.Ordinal);
    }
}
