using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Esql;
using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Esql;

/// <summary>One engine runs a query text many times (a scheduled rule): what it keeps between runs never changes a result.</summary>
public sealed class PlanReuseTests
{
    private static readonly DataTable Events = Table("events", ["@timestamp:date", "key:keyword", "agent:keyword"],
        [Time("2026-11-30T10:00:00Z"), "k1", "abc"],
        [Time("2026-11-30T10:30:00Z"), "k2", "a.c"],
        [Time("2026-11-30T11:30:00Z"), "k3", "curl/8.0"]);

    private static Dictionary<string, DataTable> Indices(params DataTable[] tables) => tables.ToDictionary(t => t.Name);

    private static string Keys(EsqlResult result) => string.Join(" ", result.Table.Rows.Select(r => r[result.Table.IndexOf("key")]));

    [Fact]
    public void Now_reads_the_clock_of_each_run_when_the_engine_runs_the_same_text_again()
    {
        var engine = new EsqlEngine();
        const string query = "FROM events | WHERE @timestamp > NOW() - 1 hour | KEEP key";

        var first = engine.Execute(query, Indices(Events), Time("2026-11-30T11:00:00Z"));
        var second = engine.Execute(query, Indices(Events), Time("2026-11-30T12:00:00Z"));

        Assert.Equal(("k2 k3", "k3"), (Keys(first), Keys(second)));
    }

    [Fact]
    public void The_same_text_reads_the_tables_and_window_of_each_run()
    {
        var engine = new EsqlEngine();
        var other = Table("events", ["@timestamp:date", "key:keyword", "agent:keyword"], [Time("2026-11-30T10:00:00Z"), "k9", "x"]);
        const string query = "FROM events | KEEP key";

        var first = engine.Execute(query, Indices(Events), Now, (Time("2026-11-30T10:15:00Z"), Time("2026-11-30T12:00:00Z")));
        var second = engine.Execute(query, Indices(other), Now);

        Assert.Equal(("k2 k3", "k9"), (Keys(first), Keys(second)));
    }

    [Fact]
    public void A_lookup_index_read_again_gives_each_run_its_matches_and_its_multi_value_warning()
    {
        var engine = new EsqlEngine();
        var owners = Table("owners", ["key:keyword", "owner:keyword"], ["k1", "ann"], [Many("k2", "k3"), "bob"]);
        const string query = "FROM events | KEEP key | LOOKUP JOIN owners ON key";

        var first = engine.Execute(query, Indices(Events, owners), Now);
        var second = engine.Execute(query, Indices(Events, owners), Now);

        Assert.Equal("ann null null", string.Join(" ", second.Table.Rows.Select(r => r[second.Table.IndexOf("owner")] ?? "null")));
        Assert.Equal(first.Warnings, second.Warnings);
        Assert.Contains(second.Warnings, w => w.Contains("LOOKUP JOIN encountered multi-value", StringComparison.Ordinal));
    }

    [Fact]
    public void An_index_pattern_with_one_index_holding_rows_in_the_window_reads_only_that_index()
    {
        var engine = new EsqlEngine();
        var vendor = Table("events-vendor", ["@timestamp:date", "key:keyword", "agent:keyword"], [Time("2026-11-29T10:00:00Z"), "v1", "x"]);
        const string query = "FROM events* METADATA _index | KEEP key, _index";

        var windowed = engine.Execute(query, Indices(Events, vendor), Now, (Time("2026-11-30T10:15:00Z"), Time("2026-11-30T12:00:00Z")));
        var whole = engine.Execute(query, Indices(Events, vendor), Now);

        Assert.Equal(("k2 k3", "k1 k2 k3 v1"), (Keys(windowed), Keys(whole)));
    }

    [Fact]
    public void A_query_that_does_not_parse_fails_again_on_the_next_run()
    {
        var engine = new EsqlEngine();

        var first = Assert.Throws<EsqlException>(() => engine.Execute("FROM events | WHERE", Indices(Events), Now));
        var second = Assert.Throws<EsqlException>(() => engine.Execute("FROM events | WHERE", Indices(Events), Now));

        Assert.Equal(first.Message, second.Message);
    }

    [Fact]
    public void A_pattern_that_does_not_compile_fails_again_on_the_next_run()
    {
        var engine = new EsqlEngine();
        const string query = "FROM events | WHERE agent LIKE \"a\\\\\"";

        var first = Assert.Throws<EsqlException>(() => engine.Execute(query, Indices(Events), Now));
        var second = Assert.Throws<EsqlException>(() => engine.Execute(query, Indices(Events), Now));

        Assert.Equal((first.Message, true), (second.Message, first.Message.Contains("escape character", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_like_and_an_rlike_of_the_same_text_keep_their_own_meaning()
    {
        var engine = new EsqlEngine();

        var like = engine.Execute("FROM events | WHERE agent LIKE \"a.c\" | KEEP key", Indices(Events), Now);
        var rlike = engine.Execute("FROM events | WHERE agent RLIKE \"a.c\" | KEEP key", Indices(Events), Now);

        Assert.Equal(("k2", "k1 k2"), (Keys(like), Keys(rlike)));
    }

    [Fact]
    public void A_table_of_typed_columns_answers_as_the_same_table_of_rows()
    {
        var engine = new EsqlEngine();
        var typed = new DataTable("events", Events.Columns, new TypedColumns([
            new DateTimeValues([.. Events.Rows.Select(r => ((DateTime)r[0]!).Ticks)], null),
            new StringValues([.. Events.Rows.Select(r => (string?)r[1])]),
            new StringValues(["abc", null, "curl/8.0"]),
        ]));
        const string query = "FROM events | WHERE agent IS NOT NULL | STATS n = COUNT(*) BY key | SORT key";

        var fromRows = engine.Execute(query, Indices(Events), Now, (Time("2026-11-30T10:00:00Z"), Time("2026-11-30T12:00:00Z")));
        var fromTyped = engine.Execute(query, Indices(typed), Now, (Time("2026-11-30T10:00:00Z"), Time("2026-11-30T12:00:00Z")));

        Assert.Equal(("k1 k2 k3", "k1 k3"), (Keys(fromRows), Keys(fromTyped)));
    }
    private static string Rows(EsqlResult result) =>
        string.Join(",", result.Table.Columns.Select(c => $"{c.Name}:{c.Type}")) + " | "
        + string.Join(" ; ", result.Table.Rows.Select(r => string.Join(" ", r.Select(v => v is DateTime d ? d.ToString("O", System.Globalization.CultureInfo.InvariantCulture) : v?.ToString() ?? "null"))))
        + " | " + string.Join(" ; ", result.Warnings);

    [Theory]
    [InlineData("FROM events | WHERE @timestamp > NOW() - 1 hour | EVAL age = DATE_DIFF(\"minutes\", @timestamp, NOW()) | STATS n = COUNT(*), oldest = MAX(age) BY key | SORT key")]
    [InlineData("FROM events | STATS n = COUNT(*) BY b = BUCKET(@timestamp, 4, NOW() - 2 hours, NOW()) | SORT b")]
    [InlineData("FROM events | EVAL later = NOW() + 1 day, x = 1 / 0 | KEEP key, later, x")]
    public void A_kept_plan_run_at_two_times_gives_the_results_of_two_fresh_plans(string query)
    {
        var kept = new EsqlEngine();
        var at11 = Time("2026-11-30T11:00:00Z");
        var at12 = Time("2026-11-30T12:00:00Z");

        var first = kept.Execute(query, Indices(Events), at11);
        var second = kept.Execute(query, Indices(Events), at12);

        Assert.Equal(Rows(new EsqlEngine().Execute(query, Indices(Events), at11)), Rows(first));
        Assert.Equal(Rows(new EsqlEngine().Execute(query, Indices(Events), at12)), Rows(second));
    }

    [Fact]
    public void A_plan_is_bound_again_when_a_from_index_changes_its_columns()
    {
        var engine = new EsqlEngine();
        var retyped = Table("events", ["@timestamp:date", "key:keyword", "agent:long"], [Time("2026-11-30T10:00:00Z"), "k9", 7L]);
        const string query = "FROM events | KEEP key, agent";

        engine.Execute(query, Indices(Events), Now);
        var second = engine.Execute(query, Indices(retyped), Now);

        Assert.Equal(Rows(new EsqlEngine().Execute(query, Indices(retyped), Now)), Rows(second));
    }

    [Fact]
    public void A_plan_is_bound_again_when_a_lookup_index_changes_its_columns()
    {
        var engine = new EsqlEngine();
        var owners = Table("owners", ["key:keyword", "owner:keyword"], ["k1", "ann"]);
        var teams = Table("owners", ["key:keyword", "team:keyword"], ["k2", "blue"]);
        const string query = "FROM events | KEEP key | LOOKUP JOIN owners ON key | SORT key";

        engine.Execute(query, Indices(Events, owners), Now);
        var second = engine.Execute(query, Indices(Events, teams), Now);

        Assert.Equal("key:keyword,team:keyword | k1 null ; k2 blue ; k3 null | ", Rows(second));
    }

    [Fact]
    public void A_plan_whose_lookup_index_is_gone_fails_as_a_fresh_plan_does()
    {
        var engine = new EsqlEngine();
        var owners = Table("owners", ["key:keyword", "owner:keyword"], ["k1", "ann"]);
        const string query = "FROM events | KEEP key | LOOKUP JOIN owners ON key";

        engine.Execute(query, Indices(Events, owners), Now);
        var error = Assert.Throws<EsqlException>(() => engine.Execute(query, Indices(Events), Now));

        Assert.Contains("Unknown index [owners]", error.Message, StringComparison.Ordinal);
    }
}
