using KeyAbuseContent.Expressions.Regex;

namespace KeyAbuseContent.Tests.Expressions;

public class RegexTests
{
    private static RegexPattern Parse(string pattern)
    {
        var (parsed, error) = RegexParser.Parse(pattern);
        Assert.Null(error);
        return parsed!;
    }

    private static string Refusal(string pattern)
    {
        var (_, error) = RegexParser.Parse(pattern);
        Assert.NotNull(error);
        return error!.Message;
    }

    [Fact]
    public void LuceneReservedCharactersAreEscaped() =>
        Assert.Equal(".*a\\\"b\\#c\\@d\\&e\\<f\\>g\\~h.*", RegexRenderer.ToLucene(Parse("a\"b#c@d&e<f>g~h")));

    [Fact]
    public void AnUnanchoredPatternSearchesInBothDialects()
    {
        var pattern = Parse("sk-[a-z]{4}");
        Assert.Equal("(?s)sk-[a-z]{4}", RegexRenderer.ToRe2(pattern));
        Assert.Equal(".*sk-[a-z]{4}.*", RegexRenderer.ToLucene(pattern));
    }

    [Fact]
    public void AnchorsRemoveTheWildcardEnds() => Assert.Equal("abc", RegexRenderer.ToLucene(Parse("^abc$")));

    [Fact]
    public void ATopLevelAlternationIsGroupedBeforeWildcardsAreAdded() =>
        Assert.Equal(".*(a|b).*", RegexRenderer.ToLucene(Parse("a|b")));

    [Fact]
    public void ShorthandClassesAreWrittenOut() =>
        Assert.Equal("(?s)[0-9][A-Za-z0-9_]", RegexRenderer.ToRe2(Parse("\\d\\w")));

    [Fact]
    public void NonCapturingGroupsBecomePlainGroupsInLucene() =>
        Assert.Equal(".*(ab)+.*", RegexRenderer.ToLucene(Parse("(?:ab)+")));

    [Theory]
    [InlineData("\\bkey", "word boundaries")]
    [InlineData("(?=x)", "lookarounds")]
    [InlineData("(?i)key", "inline flags")]
    [InlineData("a+?", "lazy and possessive")]
    [InlineData("(a)\\1", "backreferences")]
    [InlineData("a^b", "'^' is only allowed at the start")]
    [InlineData("a$b", "'$' is only allowed at the end")]
    [InlineData("[a-", "unterminated character class")]
    [InlineData("(ab", "missing ')'")]
    [InlineData("a{2000}", "above 1000")]
    [InlineData("\\n", "not supported")]
    public void ConstructsTheDialectsReadDifferentlyAreRefused(string pattern, string reason) =>
        Assert.Contains(reason, Refusal(pattern), StringComparison.Ordinal);
}
