using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Engine.Kql.Execution.Tabular;
using KeyAbuseContent.Engine.Kql.Storage;

namespace KeyAbuseContent.Tests.Engine.Kql;

public sealed class KeyEncodingTests
{
    [Fact]
    public void The_map_numbers_keys_densely_in_order_of_first_appearance_across_growth()
    {
        var map = new LongIntMap();
        var keys = Enumerable.Range(0, 100_000).Select(i => ((long)(i % 1000) << 32) | (uint)(i / 1000)).ToList();

        var values = keys.Select(k => map.GetOrAdd(k)).ToList();

        Assert.Equal(Enumerable.Range(0, 100_000), values);
        Assert.Equal(values, keys.Select(k => map.GetOrAdd(k)));
    }

    [Fact]
    public void Groups_of_two_keys_are_numbered_by_first_appearance_with_their_first_rows()
    {
        var a = new StringColumn(["x", "y", "x", "y", "x"], 5);
        var b = new ValueColumn<long>(KqlType.Long, [1, 1, 2, 1, 1], null, 5);

        var groups = Groups.Of([a, b], 5);

        Assert.Equal([0, 1, 2, 1, 0], groups.RowGroups);
        Assert.Equal(3, groups.Count);
        Assert.Equal([0, 1, 2], groups.FirstRows);
    }

    [Fact]
    public void A_null_key_is_one_group_of_its_own()
    {
        var a = new ValueColumn<long>(KqlType.Long, [5, 0, 5, 0], [false, true, false, true], 4);

        Assert.Equal([0, 1, 0, 1], Groups.Of([a], 4).RowGroups);
    }
}
