using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Harness.Running;

namespace KeyAbuseContent.Tests.Harness;

/// <summary>A table cut into the window a run may read: [from, to) on its time column, whatever the table's form.</summary>
public sealed class TimeSlicesTests
{
    private static readonly DateTime Ten = new(2026, 11, 30, 10, 0, 0, DateTimeKind.Utc);

    private static readonly ColumnSchema[] Schema = [new("TimeGenerated", "datetime"), new("KeyId", "string")];

    private static DataTable Typed(params (int Minutes, string Key)[] rows) => new("T", Schema, new TypedColumns([
        new DateTimeValues([.. rows.Select(r => Ten.AddMinutes(r.Minutes).Ticks)], null),
        new StringValues([.. rows.Select(r => r.Key)]),
    ]));

    private static string Keys(DataTable table) => string.Join(" ", table.Rows.Select(r => r[1]));

    [Fact]
    public void A_typed_table_in_time_order_is_cut_into_ranges_of_its_columns()
    {
        var slices = new TimeSlices(Typed((0, "a"), (10, "b"), (20, "c")), "TimeGenerated");

        var slice = slices.Slice(Ten.AddMinutes(5), Ten.AddMinutes(20));

        Assert.Equal(("b", true), (Keys(slice), slice.Data is not null));
    }

    [Fact]
    public void A_typed_table_out_of_time_order_is_cut_in_time_order()
    {
        var slices = new TimeSlices(Typed((20, "c"), (0, "a"), (10, "b")), "TimeGenerated");

        Assert.Equal("a b", Keys(slices.Slice(Ten, Ten.AddMinutes(15))));
    }
}
