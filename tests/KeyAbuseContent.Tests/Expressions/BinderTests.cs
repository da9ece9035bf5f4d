using KeyAbuseContent.Expressions;

namespace KeyAbuseContent.Tests.Expressions;

public class BinderTests
{
    [Fact]
    public void AnUnknownFieldSuggestsTheClosestOne() =>
        Assert.Equal("'countyr' is not one of the activity event fields; did you mean 'country'?", ExpressionTestKit.BindError("countyr == \"US\""));

    [Fact]
    public void ComparingAStringWithANumberIsAnError() =>
        Assert.Equal("cannot compare a string with an integer", ExpressionTestKit.BindError("model == 4"));

    [Fact]
    public void ANonConditionFilterIsAnError() =>
        Assert.Contains("a condition (true or false) is expected", ExpressionTestKit.BindError("input_tokens + 1"), StringComparison.Ordinal);

    [Fact]
    public void ComparingWithNullPointsToIsEmpty() =>
        Assert.Contains("isempty(x)", ExpressionTestKit.BindError("model == null"), StringComparison.Ordinal);

    [Fact]
    public void OrderingStringsIsRefused() =>
        Assert.Contains("'<' and '>' compare numbers", ExpressionTestKit.BindError("model > \"a\""), StringComparison.Ordinal);

    [Fact]
    public void AnIpLiteralIsChecked() =>
        Assert.Contains("is not an IP address", ExpressionTestKit.BindError("client_ip == \"10.0.0\""), StringComparison.Ordinal);

    [Fact]
    public void CidrMatchTakesAnIpv6Range() =>
        Assert.IsType<BoundCall>(ExpressionTestKit.Bind("cidr_match(client_ip, \"2001:db8::/32\")"));

    [Fact]
    public void CidrMatchTakesIpv4AndIpv6RangesTogether() =>
        Assert.IsType<BoundCall>(ExpressionTestKit.Bind("cidr_match(client_ip, \"10.0.0.0/8\", \"2001:db8::/32\")"));

    [Fact]
    public void CidrMatchRefusesAnIpv6PrefixOver128() =>
        Assert.Contains("IPv4 or IPv6 CIDR", ExpressionTestKit.BindError("cidr_match(client_ip, \"2001:db8::/129\")"), StringComparison.Ordinal);

    [Fact]
    public void CidrMatchRefusesAnIpv4PrefixOver32() =>
        Assert.Contains("IPv4 or IPv6 CIDR", ExpressionTestKit.BindError("cidr_match(client_ip, \"10.0.0.0/33\")"), StringComparison.Ordinal);

    [Fact]
    public void CidrMatchRefusesARangeWithoutAPrefix() =>
        Assert.Contains("IPv4 or IPv6 CIDR", ExpressionTestKit.BindError("cidr_match(client_ip, \"2001:db8::1\")"), StringComparison.Ordinal);

    [Fact]
    public void AggregatesOutsideAnAggregateBlockAreRefused() =>
        Assert.Contains("aggregates belong in the 'aggregate' block", ExpressionTestKit.BindError("count() > 5"), StringComparison.Ordinal);

    [Fact]
    public void DaysSinceNeedsTheRunTime() =>
        Assert.Contains("only inventory rules have", ExpressionTestKit.BindError("days_since(time) > 3"), StringComparison.Ordinal);

    [Fact]
    public void APatternMatchingTheEmptyStringIsRefused() =>
        Assert.Contains("matches the empty string", ExpressionTestKit.BindError("model matches \"a*\""), StringComparison.Ordinal);

    [Fact]
    public void DivisionIsReal()
    {
        var comparison = Assert.IsType<BoundCompare>(ExpressionTestKit.Bind("input_tokens / output_tokens > 2"));
        Assert.Equal(ExprType.Real, comparison.Left.Type);
    }
}
