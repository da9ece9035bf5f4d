using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

/// <summary><c>evaluate ipv6_lookup</c>, as Microsoft's documentation describes the plugin.</summary>
public sealed class Ipv6LookupTests
{
    private static readonly DataTable Requests = Table("Requests", "Ip:string, N:long",
        ["2001:db8:100::7", 1L], ["2001:DB8:200:0:0:0:0:1", 2L], ["2001:db8:300::1", 3L], ["not an address", 4L], ["203.0.113.9", 5L]);

    private static readonly DataTable Ranges = Table("Ranges", "network:string, country:string, asn:long",
        ["2001:db8:100::/48", "NL", 64512L], ["2001:db8:200::/40", "JP", 64513L], ["203.0.113.0/24", "US", 64500L]);

    [Fact]
    public void Each_row_gets_the_columns_of_the_range_that_holds_its_address()
    {
        var result = Run("Requests | evaluate ipv6_lookup(Ranges, Ip, network) | sort by N asc", Requests, Ranges);

        Assert.Equal(["Ip", "N", "network", "country", "asn"], Names(result));
        Assert.Equal([1L, 2L, 5L], Column(result, "N"));
        Assert.Equal(["NL", "JP", "US"], Column(result, "country"));
    }

    [Fact]
    public void Return_unmatched_keeps_the_rows_without_a_range_with_empty_lookup_columns()
    {
        var result = Run("Requests | evaluate ipv6_lookup(Ranges, Ip, network, return_unmatched = true) | sort by N asc", Requests, Ranges);

        Assert.Equal([1L, 2L, 3L, 4L, 5L], Column(result, "N"));
        Assert.Equal([64512L, 64513L, null, null, 64500L], Column(result, "asn"));
    }

    [Fact]
    public void An_ipv4_address_or_range_is_read_as_its_ipv4_mapped_ipv6_address()
    {
        var mapped = Table("Mapped", "network:string, country:string", ["::ffff:203.0.113.0/120", "GB"]);

        Assert.Equal(["US"], Column(Run("Requests | where N == 5 | evaluate ipv6_lookup(Ranges, Ip, network)", Requests, Ranges), "country"));
        Assert.Equal(["GB"], Column(Run("Requests | where N == 5 | evaluate ipv6_lookup(Mapped, Ip, network)", Requests, mapped), "country"));
    }

    [Fact]
    public void A_source_key_with_a_prefix_matches_the_range_it_falls_in()
    {
        var prefixed = Table("Prefixed", "Ip:string", ["2001:db8:100:ab00::/56"]);

        Assert.Equal(["NL"], Column(Run("Prefixed | evaluate ipv6_lookup(Ranges, Ip, network)", prefixed, Ranges), "country"));
    }

    [Fact]
    public void Extra_arguments_are_an_error_naming_the_plugins_arguments()
    {
        var e = Fails("Requests | evaluate ipv6_lookup(Ranges, Ip, network, N, true)", Requests, Ranges);

        Assert.Contains("ipv6_lookup() takes (LookupTable, SourceIPv6Key, IPv6LookupKey [, return_unmatched])", e.Message, StringComparison.Ordinal);
    }
}
