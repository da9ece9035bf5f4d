using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

public sealed class JoinAndExpandTests
{
    private static readonly DataTable X = Table("X", "Key:string, Value1:long", ["a", 1L], ["b", 2L], ["b", 3L], ["c", 4L]);

    private static readonly DataTable Y = Table("Y", "Key:string, Value2:long", ["b", 10L], ["c", 20L], ["c", 30L], ["d", 40L]);

    [Fact]
    public void The_default_join_is_innerunique_and_keeps_one_left_row_per_key()
    {
        var result = Run("X | join Y on Key", X, Y);

        Assert.Equal(["Key", "Value1", "Key1", "Value2"], Names(result));
        Assert.Equal([2L, 4L, 4L], Column(result, "Value1"));
        Assert.Equal([10L, 20L, 30L], Column(result, "Value2"));
    }

    [Fact]
    public void An_inner_join_pairs_every_matching_row()
    {
        Assert.Equal(4, Run("X | join kind=inner Y on Key", X, Y).Rows.Count);
    }

    [Fact]
    public void A_leftouter_join_keeps_unmatched_left_rows_with_nulls()
    {
        var result = Run("X | join kind=leftouter Y on Key", X, Y);

        Assert.Equal(5, result.Rows.Count);
        Assert.Equal(["a", 1L, "", null], result.Rows[0]);
    }

    [Fact]
    public void A_leftanti_join_keeps_the_left_rows_without_a_match()
    {
        var result = Run("X | join kind=leftanti Y on Key", X, Y);

        Assert.Equal(["Key", "Value1"], Names(result));
        Assert.Equal(["a"], Column(result, "Key"));
    }

    [Fact]
    public void A_leftsemi_join_keeps_each_matching_left_row_once()
    {
        Assert.Equal([2L, 3L, 4L], Column(Run("X | join kind=leftsemi Y on Key", X, Y), "Value1"));
    }

    [Fact]
    public void A_rightanti_join_keeps_the_right_rows_without_a_match()
    {
        var result = Run("X | join kind=rightanti Y on Key", X, Y);

        Assert.Equal(["Key", "Value2"], Names(result));
        Assert.Equal(["d"], Column(result, "Key"));
    }

    [Fact]
    public void Left_and_right_keys_may_have_different_names()
    {
        var z = Table("Z", "Name:string, W:long", ["c", 7L]);

        var result = Run("X | join kind=inner Z on $left.Key == $right.Name", X, z);

        Assert.Equal(["Key", "Value1", "Name", "W"], Names(result));
        Assert.Equal([4L], Column(result, "Value1"));
    }

    [Fact]
    public void A_join_on_two_keys_needs_both_to_match()
    {
        var l = Table("L", "A:string, B:long, V:long", ["x", 1L, 1L], ["x", 2L, 2L]);
        var r = Table("R", "A:string, B:long, W:long", ["x", 2L, 20L]);

        Assert.Equal([2L], Column(Run("L | join kind=inner R on A, B", l, r), "V"));
    }

    [Fact]
    public void Join_keys_of_int_and_long_match_by_value()
    {
        var l = Table("L", "K:int", [3]);
        var r = Table("R", "K:long", [3L]);

        Assert.Single(Run("L | join kind=inner R on K", l, r).Rows);
    }

    [Fact]
    public void Lookup_is_leftouter_by_default_and_drops_the_right_key()
    {
        var result = Run("X | lookup Y on Key", X, Y);

        Assert.Equal(["Key", "Value1", "Value2"], Names(result));
        Assert.Equal(5, result.Rows.Count);
        Assert.Null(result.Rows[0][2]);
    }

    [Fact]
    public void Lookup_inner_drops_unmatched_rows()
    {
        Assert.Equal(["b", "b", "c", "c"], Column(Run("X | lookup kind=inner Y on Key", X, Y), "Key"));
    }

    [Fact]
    public void Lookup_renames_a_clashing_non_key_column()
    {
        var r = Table("R", "Key:string, Value1:long", ["a", 9L]);

        Assert.Equal(["Key", "Value1", "Value11"], Names(Run("X | lookup R on Key", X, r)));
    }

    [Fact]
    public void Mv_expand_gives_a_row_per_element_with_the_other_columns_repeated()
    {
        var result = Run("datatable(a:long, b:dynamic)[1, dynamic([10, 20]), 2, dynamic(['x'])] | mv-expand b");

        Assert.Equal([1L, 1L, 2L], Column(result, "a"));
        Assert.Equal(["10", "20", "\"x\""], Column(result, "b").Select(v => ((JsonNode)v!).ToJsonString()));
    }

    [Fact]
    public void Mv_expand_to_typeof_converts_the_elements()
    {
        var result = Run("print s = dynamic(['1', '2']) | mv-expand s to typeof(long)");

        Assert.Equal(["s:long"], Schema(result));
        Assert.Equal([1L, 2L], Column(result, "s"));
    }

    [Fact]
    public void Mv_expand_of_a_bag_gives_one_property_bags()
    {
        var result = Run("""print b = dynamic({"p": 1, "q": 2}) | mv-expand b""");

        Assert.Equal(["""{"p":1}""", """{"q":2}"""], Column(result, "b").Select(v => ((JsonNode)v!).ToJsonString()));
    }

    [Fact]
    public void Mv_expand_of_an_empty_array_drops_the_row_and_of_null_keeps_one()
    {
        var result = Run("datatable(a:long, b:dynamic)[1, dynamic([]), 2, dynamic(null)] | mv-expand b");

        Assert.Equal([2L], Column(result, "a"));
    }

    [Fact]
    public void Mv_expand_of_two_columns_zips_them_padding_with_nulls()
    {
        var result = Run("print a = dynamic([1, 2, 3]), b = dynamic(['x']) | mv-expand a, b");

        Assert.Equal(3, result.Rows.Count);
        Assert.Null(result.Rows[2][1]);
    }

    [Fact]
    public void Mv_expand_with_itemindex_numbers_the_elements()
    {
        Assert.Equal([0L, 1L], Column(Run("print a = dynamic(['x', 'y']) | mv-expand with_itemindex = i a"), "i"));
    }

    [Fact]
    public void Parse_extracts_columns_between_literals()
    {
        var result = Run("""print s = 'user=ana id=42 end' | parse s with 'user=' user ' id=' id:long ' ' *""");

        Assert.Equal(["s", "user", "id"], Names(result));
        Assert.Equal(["ana", 42L], result.Rows[0][1..]);
    }

    [Fact]
    public void Parse_gives_nulls_when_the_text_does_not_match()
    {
        var result = Run("""print s = 'nothing here' | parse s with 'user=' user ' id=' id:long""");

        Assert.Equal(["", null], result.Rows[0][1..]);
    }

    [Fact]
    public void Parse_kind_regex_reads_its_literals_as_regular_expressions()
    {
        var result = Run("""print s = 'abc 123 def' | parse kind=regex s with '[a-z]+ ' n:long""");

        Assert.Equal(123L, result.Rows[0][1]);
    }
}
