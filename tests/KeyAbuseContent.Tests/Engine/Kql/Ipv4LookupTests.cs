using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

/// <summary><c>evaluate ipv4_lookup</c>, as Microsoft's documentation describes the plugin.</summary>
public sealed class Ipv4LookupTests
{
    private static readonly DataTable Requests = Table("Requests", "Ip:string, N:long",
        ["203.0.113.9", 1L], ["198.51.100.200", 2L], ["192.0.2.1", 3L], ["not an address", 4L], ["81.2.69.0", 5L]);

    private static readonly DataTable Ranges = Table("Ranges", "network:string, country:string, asn:long",
        ["203.0.113.0/24", "US", 64500L], ["198.51.100.128/25", "DE", 64501L], ["81.2.0.0/16", "GB", 64502L]);

    [Fact]
    public void Each_row_gets_the_columns_of_the_range_that_holds_its_address()
    {
        var result = Run("Requests | evaluate ipv4_lookup(Ranges, Ip, network) | sort by N asc", Requests, Ranges);

        Assert.Equal(["Ip", "N", "network", "country", "asn"], Names(result));
        Assert.Equal([1L, 2L, 5L], Column(result, "N"));
        Assert.Equal(["US", "DE", "GB"], Column(result, "country"));
    }

    [Fact]
    public void Return_unmatched_keeps_the_rows_without_a_range_with_empty_lookup_columns()
    {
        var result = Run("Requests | evaluate ipv4_lookup(Ranges, Ip, network, return_unmatched = true) | sort by N asc", Requests, Ranges);

        Assert.Equal([1L, 2L, 3L, 4L, 5L], Column(result, "N"));
        Assert.Equal(["US", "DE", "", "", "GB"], Column(result, "country"));
        Assert.Equal([64500L, 64501L, null, null, 64502L], Column(result, "asn"));
    }

    [Fact]
    public void A_positional_false_drops_unmatched_rows()
    {
        Assert.Equal(3, Run("Requests | evaluate ipv4_lookup(Ranges, Ip, network, false)", Requests, Ranges).Rows.Count);
    }

    [Fact]
    public void A_let_bound_lookup_table_is_read()
    {
        var result = Run("let R = Ranges | where country == 'US'; Requests | evaluate ipv4_lookup(R, Ip, network)", Requests, Ranges);

        Assert.Equal([1L], Column(result, "N"));
    }

    [Fact]
    public void A_source_key_with_a_prefix_matches_the_range_it_falls_in()
    {
        var masked = Table("Masked", "Ip:string", ["81.2.69.0/24"]);

        Assert.Equal(["GB"], Column(Run("Masked | evaluate ipv4_lookup(Ranges, Ip, network)", masked, Ranges), "country"));
    }

    [Fact]
    public void A_key_that_is_not_a_column_is_an_error_naming_it()
    {
        var e = Fails("Requests | evaluate ipv4_lookup(Ranges, Address, network)", Requests, Ranges);

        Assert.Contains("'Address' is not a column of the input", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_equality_keys_are_refused_as_outside_the_subset()
    {
        var e = Fails("Requests | evaluate ipv4_lookup(Ranges, Ip, network, N, true)", Requests, Ranges);

        Assert.Contains("extra keys", e.Message, StringComparison.Ordinal);
    }
}
