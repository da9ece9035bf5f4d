using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
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
    private static string Countries(DataTable result) => string.Join(" ", Column(result, "country").Select(c => c is "" ? "-" : c));

    [Fact]
    public void Slices_of_one_table_get_the_matches_of_their_own_rows()
    {
        var engine = new KqlEngine();
        var rows = Requests.Rows.ToArray();
        const string query = "Requests | evaluate ipv4_lookup(Ranges, Ip, network, return_unmatched = true) | project N, country";
        DataTable Slice(int offset, int count) => new("Requests", Requests.Columns, new ArraySegment<object?[]>(rows, offset, count));

        var first = engine.Execute(query, new Dictionary<string, DataTable> { ["Requests"] = Slice(0, 3), ["Ranges"] = Ranges }, [], Now).Table;
        var second = engine.Execute(query, new Dictionary<string, DataTable> { ["Requests"] = Slice(1, 4), ["Ranges"] = Ranges }, [], Now).Table;

        Assert.Equal(("US DE -", "DE - - GB"), (Countries(first), Countries(second)));
    }

    [Fact]
    public void A_slice_looked_up_in_other_ranges_gets_the_matches_of_those_ranges()
    {
        var engine = new KqlEngine();
        var rows = Requests.Rows.ToArray();
        var moved = Table("Ranges", "network:string, country:string, asn:long", ["192.0.2.0/24", "FR", 64509L], ["203.0.113.0/25", "CA", 64510L]);
        const string query = "Requests | evaluate ipv4_lookup(Ranges, Ip, network) | project N, country";
        var slice = new DataTable("Requests", Requests.Columns, new ArraySegment<object?[]>(rows, 0, 4));

        engine.Execute(query, new Dictionary<string, DataTable> { ["Requests"] = slice, ["Ranges"] = Ranges }, [], Now);
        var again = engine.Execute(query, new Dictionary<string, DataTable> { ["Requests"] = slice, ["Ranges"] = moved }, [], Now).Table;

        Assert.Equal("CA FR", Countries(again));
    }
}
