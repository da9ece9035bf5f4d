using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

/// <summary>One engine runs a query text many times (a scheduled rule): what it keeps between runs never changes a result.</summary>
public sealed class PlanReuseTests
{
    private static readonly DataTable Events = Table("Events", "TimeGenerated:datetime, KeyId:string, Status:long",
        [At("2026-11-30 10:00"), "k1", 200L],
        [At("2026-11-30 10:30"), "k2", 401L],
        [At("2026-11-30 11:30"), "k3", 200L]);

    private static Dictionary<string, DataTable> Tables(params DataTable[] tables) => tables.ToDictionary(t => t.Name);

    private static string Keys(DataTable table) => string.Join(" ", Column(table, "KeyId"));

    private static string Row(DataTable table) => string.Join(" ", Assert.Single(table.Rows).Select(v => ((DateTime)v!).ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Ago_reads_the_clock_of_each_run_when_the_engine_runs_the_same_text_again()
    {
        var engine = new KqlEngine();
        const string query = "Events | where TimeGenerated > ago(1h) | project KeyId";

        var first = engine.Execute(query, Tables(Events), [], At("2026-11-30 11:00")).Table;
        var second = engine.Execute(query, Tables(Events), [], At("2026-11-30 12:00")).Table;

        Assert.Equal(("k2 k3", "k3"), (Keys(first), Keys(second)));
    }

    [Fact]
    public void A_let_of_now_and_a_datatable_of_now_give_each_run_its_own_clock()
    {
        var engine = new KqlEngine();
        const string query = "let t = now(); datatable(d:datetime)[now()] | extend t = t, n = now(-1h)";

        var first = engine.Execute(query, Tables(), [], At("2026-11-30 11:00")).Table;
        var second = engine.Execute(query, Tables(), [], At("2026-11-30 12:00")).Table;

        Assert.Equal(("11:00 11:00 10:00", "12:00 12:00 11:00"), (Row(first), Row(second)));
    }

    [Fact]
    public void A_table_of_the_same_name_with_other_columns_binds_the_query_again()
    {
        var engine = new KqlEngine();
        var other = Table("Events", "TimeGenerated:datetime, KeyId:long", [At("2026-11-30 10:00"), 7L]);

        var first = engine.Execute("Events | project KeyId", Tables(Events), [], Now).Table;
        var second = engine.Execute("Events | project KeyId", Tables(other), [], Now).Table;

        Assert.Equal(("KeyId:string", "KeyId:long", "7"), (string.Join(" ", Schema(first)), string.Join(" ", Schema(second)), Keys(second)));
    }

    [Fact]
    public void A_stored_function_with_another_body_binds_the_query_again()
    {
        var engine = new KqlEngine();

        var first = engine.Execute("F()", Tables(Events), [new KqlFunction("F", [], "Events | where Status == 200")], Now).Table;
        var second = engine.Execute("F()", Tables(Events), [new KqlFunction("F", [], "Events | where Status == 401")], Now).Table;

        Assert.Equal(("k1 k3", "k2"), (Keys(first), Keys(second)));
    }

    [Fact]
    public void A_name_that_becomes_a_table_is_bound_again()
    {
        var engine = new KqlEngine();
        var shadow = Table("F", "KeyId:string", ["from the table"]);
        var function = new KqlFunction("F", [], "Events | take 1");

        var first = engine.Execute("F", Tables(Events), [function], Now).Table;
        var second = engine.Execute("F", Tables(Events, shadow), [function], Now).Table;

        Assert.Equal(("k1", "from the table"), (Keys(first), Keys(second)));
    }

    [Fact]
    public void Each_run_reads_the_rows_of_the_table_it_is_given()
    {
        var engine = new KqlEngine();
        var fewer = new DataTable("Events", Events.Columns, [.. Events.Rows.Take(1)]);

        var first = engine.Execute("Events | count", Tables(Events), [], Now).Table;
        var second = engine.Execute("Events | count", Tables(fewer), [], Now).Table;

        Assert.Equal((3L, 1L), ((long)first.Rows[0][0]!, (long)second.Rows[0][0]!));
    }

    [Fact]
    public void A_slice_of_rows_reads_only_its_rows()
    {
        var engine = new KqlEngine();
        var rows = Events.Rows.ToArray();

        var whole = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", Events.Columns, rows)), [], Now).Table;
        var middle = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", Events.Columns, new ArraySegment<object?[]>(rows, 1, 2))), [], Now).Table;
        var last = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", Events.Columns, new ArraySegment<object?[]>(rows, 2, 1))), [], Now).Table;

        Assert.Equal(("k1 k2 k3", "k2 k3", "k3"), (Keys(whole), Keys(middle), Keys(last)));
    }

    [Fact]
    public void A_slice_named_twice_in_a_query_reads_its_rows_each_time()
    {
        var engine = new KqlEngine();
        var rows = Events.Rows.ToArray();
        var slice = new DataTable("Events", Events.Columns, new ArraySegment<object?[]>(rows, 1, 2));

        var result = engine.Execute("Events | project KeyId | union (Events | project KeyId)", Tables(slice), [], Now).Table;

        Assert.Equal("k2 k3 k2 k3", Keys(result));
    }

    [Fact]
    public void A_slice_whose_array_has_a_bad_value_elsewhere_still_runs_and_a_bad_value_inside_names_its_row()
    {
        var engine = new KqlEngine();
        object?[][] rows = [[At("2026-11-30 10:00"), "k1", "not a number"], [At("2026-11-30 10:30"), "k2", 401L], [At("2026-11-30 11:30"), "k3", 200L]];

        var good = engine.Execute("Events | count", Tables(new DataTable("Events", Events.Columns, new ArraySegment<object?[]>(rows, 1, 2))), [], Now).Table;
        var bad = Assert.Throws<KqlException>(() => engine.Execute("Events | count", Tables(new DataTable("Events", Events.Columns, new ArraySegment<object?[]>(rows, 0, 2))), [], Now));

        Assert.Equal(2L, (long)good.Rows[0][0]!);
        Assert.Contains("row 1, column 'Status'", bad.Message, StringComparison.Ordinal);
    }

    private static TypedColumns TypedEvents() => new([
        new DateTimeValues([At("2026-11-30 10:00").Ticks, At("2026-11-30 10:30").Ticks, At("2026-11-30 11:30").Ticks], null),
        new StringValues(["k1", "k2", "k3"]),
        new LongValues([200, 401, 200], null),
    ]);

    [Fact]
    public void Ranges_of_typed_columns_read_only_their_rows()
    {
        var engine = new KqlEngine();
        var data = TypedEvents();

        var whole = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", Events.Columns, data)), [], Now).Table;
        var middle = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", Events.Columns, data.Range(1, 2))), [], Now).Table;
        var last = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", Events.Columns, data.Range(1, 2).Range(1, 1))), [], Now).Table;

        Assert.Equal(("k1 k2 k3", "k2 k3", "k3"), (Keys(whole), Keys(middle), Keys(last)));
    }

    [Fact]
    public void A_range_of_the_same_typed_columns_under_other_column_names_reads_its_own_names()
    {
        var engine = new KqlEngine();
        var data = TypedEvents();
        var renamed = new ColumnSchema[] { new("TimeGenerated", "datetime"), new("Caller", "string"), new("KeyId", "long") };

        var first = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", Events.Columns, data.Range(0, 2))), [], Now).Table;
        var second = engine.Execute("Events | project KeyId", Tables(new DataTable("Events", renamed, data.Range(0, 2))), [], Now).Table;

        Assert.Equal(("k1 k2", "200 401"), (Keys(first), Keys(second)));
    }
}
