using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

public sealed class SummarizeTests
{
    private static readonly DataTable Requests = Table("Requests", "TimeGenerated:datetime, KeyId:string, Ip:string, Tokens:long, Latency:real",
        [At("2026-11-30 10:00:10"), "k1", "1.1.1.1", 10L, 1.0],
        [At("2026-11-30 10:00:50"), "k1", "1.1.1.2", 20L, 2.0],
        [At("2026-11-30 10:01:05"), "k1", "1.1.1.1", null, 3.0],
        [At("2026-11-30 10:02:00"), "k2", "2.2.2.2", 40L, null],
        [At("2026-11-30 10:02:30"), "k2", "2.2.2.2", 50L, 5.0]);

    [Fact]
    public void The_by_keys_come_first_then_the_aggregates()
    {
        var result = Run("Requests | summarize n = count(), t = sum(Tokens) by KeyId", Requests);

        Assert.Equal(["KeyId:string", "n:long", "t:long"], Schema(result));
    }

    [Fact]
    public void Groups_come_out_in_order_of_first_appearance()
    {
        Assert.Equal(["k1", "k2"], Column(Run("Requests | summarize count() by KeyId", Requests), "KeyId"));
    }

    [Fact]
    public void Summarize_by_bin_groups_on_the_bin_and_names_it_after_the_column()
    {
        var result = Run("Requests | summarize c = count() by bin(TimeGenerated, 1m)", Requests);

        Assert.Equal(["TimeGenerated", "c"], Names(result));
        Assert.Equal([2L, 1L, 2L], Column(result, "c"));
    }

    [Fact]
    public void Count_counts_rows_and_countif_the_rows_its_predicate_keeps()
    {
        var result = Run("Requests | summarize count(), countif(Tokens > 15)", Requests);

        Assert.Equal(["count_", "countif_"], Names(result));
        Assert.Equal([5L, 3L], result.Rows[0]);
    }

    [Fact]
    public void Sum_ignores_nulls_and_is_null_when_every_value_is_null()
    {
        var result = Run("Requests | summarize s = sum(Tokens), n = sum(long(null))", Requests);

        Assert.Equal([120L, null], result.Rows[0]);
    }

    [Fact]
    public void Avg_is_a_real_over_the_non_null_values()
    {
        Assert.Equal(2.75, Scalar("Requests | summarize avg(Latency)", Requests));
    }

    [Fact]
    public void Min_and_max_keep_the_type()
    {
        var result = Run("Requests | summarize min(TimeGenerated), max(Tokens)", Requests);

        Assert.Equal(["min_TimeGenerated:datetime", "max_Tokens:long"], Schema(result));
        Assert.Equal([At("2026-11-30 10:00:10"), 50L], result.Rows[0]);
    }

    [Fact]
    public void Minif_and_maxif_only_see_rows_their_predicate_keeps()
    {
        var result = Run("Requests | summarize minif(Tokens, KeyId == 'k2'), maxif(Tokens, KeyId == 'k1')", Requests);

        Assert.Equal([40L, 20L], result.Rows[0]);
    }

    [Fact]
    public void Dcount_is_exact()
    {
        Assert.Equal([2L, 1L], Column(Run("Requests | summarize d = dcount(Ip) by KeyId", Requests), "d"));
    }

    [Fact]
    public void Dcountif_counts_distinct_values_of_the_kept_rows()
    {
        Assert.Equal(1L, Scalar("Requests | summarize dcountif(Ip, Tokens >= 40)", Requests));
    }

    [Fact]
    public void Sumif_and_avgif_filter_their_rows()
    {
        var result = Run("Requests | summarize sumif(Tokens, KeyId == 'k2'), avgif(Latency, KeyId == 'k1')", Requests);

        Assert.Equal([90L, 2.0], result.Rows[0]);
    }

    [Fact]
    public void Stdev_is_the_sample_standard_deviation()
    {
        var value = (double)Scalar("datatable(x:real)[1.0, 2.0, 3.0, 4.0, 5.0] | summarize stdev(x)")!;

        Assert.Equal(1.58113883008419, value, 12);
    }

    [Fact]
    public void Percentile_is_the_nearest_rank_value()
    {
        var result = Run("range x from 1 to 10 step 1 | summarize percentile(x, 50), percentile(x, 95), percentile(x, 99.9)");

        Assert.Equal(["percentile_x_50", "percentile_x_95", "percentile_x_99_9"], Names(result));
        Assert.Equal([5L, 10L, 10L], result.Rows[0]);
    }

    [Fact]
    public void Percentiles_gives_one_column_per_percentile()
    {
        Assert.Equal(["percentile_x_25", "percentile_x_75"], Names(Run("range x from 1 to 8 step 1 | summarize percentiles(x, 25, 75)")));
    }

    [Fact]
    public void Make_set_keeps_distinct_values_in_first_seen_order()
    {
        var value = (JsonNode)Scalar("Requests | summarize make_set(Ip)", Requests)!;

        Assert.Equal("""["1.1.1.1","1.1.1.2","2.2.2.2"]""", value.ToJsonString());
    }

    [Fact]
    public void Make_set_of_arrays_is_the_set_of_their_elements()
    {
        var value = (JsonNode)Scalar("datatable(a:dynamic)[dynamic(['x', 'y']), dynamic(['y', 'z'])] | summarize make_set(a)")!;

        Assert.Equal("""["x","y","z"]""", value.ToJsonString());
    }

    [Fact]
    public void Count_of_a_predicate_counts_the_rows_it_keeps_and_is_named_after_it()
    {
        var result = Run("Requests | summarize count(Latency > 2.5)", Requests);

        Assert.Equal(["count_"], Names(result));
        Assert.Equal(2L, result.Rows[0][0]);
    }

    [Fact]
    public void Count_of_a_value_is_refused_as_Microsofts_language_service_refuses_it()
    {
        Assert.Equal(KqlErrorKind.Unsupported, Fails("Requests | summarize count(Latency)", Requests).Kind);
    }

    [Fact]
    public void Make_list_keeps_every_non_null_value_and_honours_its_limit()
    {
        var result = Run("Requests | summarize l = make_list(Tokens), two = make_list(Tokens, 2)", Requests);

        Assert.Equal(["[10,20,40,50]", "[10,20]"], result.Rows[0].Select(v => ((JsonNode)v!).ToJsonString()));
    }

    [Fact]
    public void Arg_max_with_a_column_list_returns_the_row_of_the_largest_value()
    {
        var result = Run("Requests | summarize arg_max(TimeGenerated, Ip, Tokens) by KeyId", Requests);

        Assert.Equal(["KeyId", "TimeGenerated", "Ip", "Tokens"], Names(result));
        Assert.Equal(["k1", At("2026-11-30 10:01:05"), "1.1.1.1", null], result.Rows[0]);
    }

    [Fact]
    public void Arg_max_with_star_returns_every_column_but_the_by_keys()
    {
        var result = Run("Requests | summarize arg_max(Tokens, *) by KeyId", Requests);

        Assert.Equal(["KeyId", "Tokens", "TimeGenerated", "Ip", "Latency"], Names(result));
        Assert.Equal([20L, 50L], Column(result, "Tokens"));
    }

    [Fact]
    public void Arg_min_ignores_null_values_and_keeps_the_first_on_ties()
    {
        var t = Table("T", "g:string, v:long, tag:string", ["a", null, "x"], ["a", 3L, "first"], ["a", 3L, "second"]);

        Assert.Equal(["first"], Column(Run("T | summarize arg_min(v, tag) by g", t), "tag"));
    }

    [Fact]
    public void Take_any_picks_a_value_of_the_group()
    {
        Assert.Equal(["1.1.1.1", "2.2.2.2"], Column(Run("Requests | summarize take_any(Ip) by KeyId", Requests), "Ip"));
    }

    [Fact]
    public void Aggregates_nest_in_expressions()
    {
        var result = Run("Requests | summarize Metric = todouble(count()), Ratio = sum(Tokens) / count() by KeyId", Requests);

        Assert.Equal(["KeyId:string", "Metric:real", "Ratio:long"], Schema(result));
        Assert.Equal([3.0, 10L], result.Rows[0][1..]);
    }

    [Fact]
    public void Summarize_without_by_over_no_rows_gives_one_row()
    {
        var result = Run("Requests | where false | summarize c = count(), s = sum(Tokens), m = max(Tokens)", Requests);

        Assert.Equal([0L, null, null], Assert.Single(result.Rows));
    }

    [Fact]
    public void Summarize_by_over_no_rows_gives_no_row()
    {
        Assert.Empty(Run("Requests | where false | summarize count() by KeyId", Requests).Rows);
    }

    [Fact]
    public void Null_keys_form_one_group()
    {
        Assert.Equal([2L, 2L, 1L], Column(Run("Requests | summarize c = count() by Latency > 2.5", Requests), "c"));
    }

    [Fact]
    public void Two_aggregates_of_the_same_name_are_numbered()
    {
        Assert.Equal(["count_", "count_1"], Names(Run("Requests | summarize count(), count()", Requests)));
    }

    [Fact]
    public void A_column_outside_an_aggregate_is_an_error_that_says_so()
    {
        var error = Fails("Requests | summarize Tokens by KeyId", Requests);

        Assert.Contains("outside an aggregate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_aggregate_outside_summarize_is_an_error()
    {
        var error = Fails("Requests | extend c = count()", Requests);

        Assert.Contains("only be used in summarize", error.Message, StringComparison.Ordinal);
    }
}
