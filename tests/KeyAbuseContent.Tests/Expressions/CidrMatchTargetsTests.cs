using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;
using KeyAbuseContent.Engine.Kql;

namespace KeyAbuseContent.Tests.Expressions;

/// <summary>cidr_match with IPv4 and IPv6 ranges, rendered for each target and run by each embedded executor.</summary>
public class CidrMatchTargetsTests
{
    private static readonly string[] Addresses = ["10.1.2.3", "203.0.113.9", "2001:db8:1::7", "2001:db9::1", "fe80::1"];

    private static readonly DateTime Now = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);

    private static List<string> Sentinel(string expression)
    {
        var table = new DataTable("T", [new ColumnSchema("SrcIpAddr", "string")], [.. Addresses.Select(a => new object?[] { a })]);
        var query = $"T | where {ExpressionTestKit.Kql(expression)} | project SrcIpAddr";
        var result = new KqlEngine().Execute(query, new Dictionary<string, DataTable> { ["T"] = table }, [], Now).Table;
        return [.. result.Rows.Select(r => (string)r[0]!)];
    }

    private static List<string> Elastic(string expression)
    {
        var table = new DataTable("logs-t-default", [new ColumnSchema("source.ip", "ip")], [.. Addresses.Select(a => new object?[] { a })]);
        var query = $"FROM logs-t-default | WHERE {ExpressionTestKit.Esql(expression)} | KEEP source.ip";
        var result = new EsqlEngine().Execute(query, new Dictionary<string, DataTable> { ["logs-t-default"] = table }, Now).Table;
        return [.. result.Rows.Select(r => Convert.ToString(r[0], System.Globalization.CultureInfo.InvariantCulture)!)];
    }

    [Fact]
    public void Ipv4RangesKeepKqlsIpv4Function() =>
        Assert.StartsWith("ipv4_is_in_any_range(", ExpressionTestKit.Kql("cidr_match(client_ip, \"10.0.0.0/8\")"), StringComparison.Ordinal);

    [Fact]
    public void AnIpv6RangeUsesKqlsIpv6Function() =>
        Assert.Equal("ipv6_is_in_any_range(SrcIpAddr, \"10.0.0.0/8\", \"2001:db8::/32\")", ExpressionTestKit.Kql("cidr_match(client_ip, \"10.0.0.0/8\", \"2001:db8::/32\")"));

    [Fact]
    public void AnIpv6RangeIsOneEsqlCidrMatch() =>
        Assert.Equal("CIDR_MATCH(source.ip, \"10.0.0.0/8\", \"2001:db8::/32\")", ExpressionTestKit.Esql("cidr_match(client_ip, \"10.0.0.0/8\", \"2001:db8::/32\")"));

    [Fact]
    public void SentinelMatchesIpv6AddressesInAnIpv6Range() =>
        Assert.Equal(["2001:db8:1::7"], Sentinel("cidr_match(client_ip, \"2001:db8::/32\")"));

    [Fact]
    public void ElasticMatchesIpv6AddressesInAnIpv6Range() =>
        Assert.Equal(["2001:db8:1::7"], Elastic("cidr_match(client_ip, \"2001:db8::/32\")"));

    [Theory]
    [InlineData("cidr_match(client_ip, \"10.0.0.0/8\", \"2001:db8::/32\")")]
    [InlineData("cidr_match(client_ip, \"203.0.113.0/24\", \"fe80::/10\")")]
    [InlineData("not cidr_match(client_ip, \"2001:db8::/32\")")]
    [InlineData("cidr_match(client_ip, \"0.0.0.0/0\")")]
    public void BothTargetsKeepTheSameAddresses(string expression) =>
        Assert.Equal(Sentinel(expression), Elastic(expression));
}
