using KeyAbuseContent.Expressions;

namespace KeyAbuseContent.Tests.Expressions;

public class ExpressionParserTests
{
    private static ExpressionError Error(string text)
    {
        var (_, error) = ExpressionParser.Parse(text);
        Assert.NotNull(error);
        return error!;
    }

    [Fact]
    public void AndBindsTighterThanOr()
    {
        var (expr, _) = ExpressionParser.Parse("a == 1 or b == 2 and c == 3");
        var or = Assert.IsType<BinaryExpr>(expr);
        Assert.Equal(BinaryOp.Or, or.Op);
        Assert.Equal(BinaryOp.And, Assert.IsType<BinaryExpr>(or.Right).Op);
    }

    [Fact]
    public void MultiplicationBindsTighterThanComparison()
    {
        var (expr, _) = ExpressionParser.Parse("value > 5 * baseline");
        var cmp = Assert.IsType<BinaryExpr>(expr);
        Assert.Equal(BinaryOp.Greater, cmp.Op);
        Assert.Equal(BinaryOp.Multiply, Assert.IsType<BinaryExpr>(cmp.Right).Op);
    }

    [Fact]
    public void NotInParsesAsOneOperator()
    {
        var (expr, _) = ExpressionParser.Parse("country not in (\"US\", \"DE\")");
        var test = Assert.IsType<InExpr>(expr);
        Assert.True(test.Negated);
        Assert.Equal(2, test.Items.Length);
    }

    [Fact]
    public void DurationsAreLiterals()
    {
        var (expr, _) = ExpressionParser.Parse("30d");
        var literal = Assert.IsType<LiteralExpr>(expr);
        Assert.Equal(TimeSpan.FromDays(30), literal.Value);
    }

    [Fact]
    public void AnUnterminatedStringIsAnError() => Assert.Equal("unterminated string", Error("model == \"gpt").Message);

    [Fact]
    public void ASingleEqualsSignSuggestsDoubleEquals() => Assert.Contains("compare with '=='", Error("status = 401").Message, StringComparison.Ordinal);

    [Fact]
    public void TheErrorSpanPointsAtTheProblem() => Assert.Equal(10, Error("status == && 1").Span.Start);

    [Fact]
    public void HasIsNotAnOperatorOfTheLanguage() => Assert.Contains("KQL 'has' matches whole terms and has no ES|QL twin", Error("user_agent has \"curl\"").Message, StringComparison.Ordinal);

    [Fact]
    public void TrailingTokensAreAnError() => Assert.Contains("after a complete expression", Error("status == 1 2").Message, StringComparison.Ordinal);

    [Fact]
    public void AnUnknownEscapeInAStringIsAnError() => Assert.Contains("unknown escape", Error("model == \"a\\qb\"").Message, StringComparison.Ordinal);

    [Fact]
    public void AnInvalidRegexIsRefusedWhenParsed() => Assert.Contains("word boundaries", Error("user_agent matches \"\\\\bcurl\"").Message, StringComparison.Ordinal);
}
