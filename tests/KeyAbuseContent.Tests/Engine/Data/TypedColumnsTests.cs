using KeyAbuseContent.Engine.Data;

namespace KeyAbuseContent.Tests.Engine.Data;

/// <summary>A table held in typed columns reads, row by row, as the same table of rows.</summary>
public sealed class TypedColumnsTests
{
    private static readonly DateTime Noon = new(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    private static TypedColumns Data() => new([
        new DateTimeValues([Noon.Ticks, 0, Noon.AddHours(1).Ticks], [false, true, false]),
        new StringValues(["a", null, "c"]),
        new LongValues([1, 0, 3], [false, true, false]),
        new DoubleValues([0.5, 1.5, 0], [false, false, true]),
    ]);

    private static readonly ColumnSchema[] Schema = [new("t", "datetime"), new("s", "string"), new("l", "long"), new("d", "real")];

    [Fact]
    public void Rows_box_each_value_with_missing_values_as_null()
    {
        var table = new DataTable("T", Schema, Data());

        Assert.Equal([[Noon, "a", 1L, 0.5], [null, null, null, 1.5], [Noon.AddHours(1), "c", 3L, null]], table.Rows.Select(r => r.ToArray()));
    }

    [Fact]
    public void A_range_reads_its_rows_of_the_whole_columns()
    {
        var table = new DataTable("T", Schema, Data().Range(1, 2).Range(1, 1));

        Assert.Equal(("c", 1), (table.Value(0, 1), table.Rows.Count));
    }

    [Fact]
    public void Columns_of_different_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new TypedColumns([new StringValues(["a"]), new LongValues([1, 2], null)]));
    }
}
