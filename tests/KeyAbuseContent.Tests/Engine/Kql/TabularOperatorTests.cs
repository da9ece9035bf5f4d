using KeyAbuseContent.Engine.Data;
using KeyAbuseContent.Engine.Kql;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

public sealed class TabularOperatorTests
{
    private static readonly DataTable Events = Table("Events", "TimeGenerated:datetime, KeyId:string, Status:long, Tokens:long",
        [At("2026-11-30 10:00"), "k1", 200L, 100L],
        [At("2026-11-30 10:01"), "k2", 401L, 0L],
        [At("2026-11-30 10:02"), "k1", 403L, null],
        [At("2026-11-30 11:30"), "k3", 200L, 2500L]);

    [Fact]
    public void Where_keeps_matching_rows_in_order()
    {
        Assert.Equal(["k2", "k1"], Column(Run("Events | where Status in (401, 403)", Events), "KeyId"));
    }

    [Fact]
    public void Extend_appends_a_column_with_its_type()
    {
        var result = Run("Events | extend Big = Tokens > 1000", Events);

        Assert.Equal("Big:bool", Schema(result)[^1]);
        Assert.Equal([false, false, null, true], Column(result, "Big"));
    }

    [Fact]
    public void Extend_replaces_an_existing_column_in_place()
    {
        var result = Run("Events | extend Status = tostring(Status)", Events);

        Assert.Equal(["TimeGenerated:datetime", "KeyId:string", "Status:string", "Tokens:long"], Schema(result));
    }

    [Fact]
    public void Extend_items_see_the_input_not_each_other()
    {
        var error = Fails("print x = 1 | extend y = x + 1, z = y * 2");

        Assert.Contains("'y'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_extended_column_is_computed_only_for_the_rows_a_later_where_keeps()
    {
        // assert() fails on rows 3 to 5: computing the column there would fail the query.
        Assert.Equal([1L, 2L], Column(Run("range x from 1 to 5 step 1 | extend c = assert(x < 3, 'computed too early') | where x < 3"), "x"));
    }

    [Fact]
    public void A_later_extend_item_replaces_an_earlier_one_of_the_same_name()
    {
        Assert.Equal(["x:long", "y:string"], Schema(Run("print x = 1 | extend y = x + 1, y = tostring(x)")));
    }

    [Fact]
    public void Union_kind_inner_keeps_the_columns_every_input_has()
    {
        // As documented; Kusto.Language's schema inference lists the outer union's columns instead.
        Assert.Equal(["KeyId"], Names(Run("Events | union kind=inner (print KeyId = 'kx', Extra = 1)", Events)));
    }

    [Fact]
    public void A_dynamic_value_cannot_be_a_summarize_key()
    {
        Assert.Contains("dynamic value cannot be a summarize or distinct key", Fails("print d = dynamic([1]) | distinct d").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Project_names_unnamed_expressions_as_Kusto_does()
    {
        var result = Run("Events | project KeyId, strlen(KeyId), tostring(Status), Status + 1, bin(TimeGenerated, 1h)", Events);

        Assert.Equal(["KeyId", "strlen_KeyId", "Status", "Column1", "TimeGenerated"], Names(result));
    }

    [Fact]
    public void Project_away_removes_columns_and_accepts_wildcards()
    {
        Assert.Equal(["KeyId", "Status"], Names(Run("Events | project-away TimeGenerated, Tok*", Events)));
    }

    [Fact]
    public void Project_away_of_an_unknown_column_is_an_error_naming_it()
    {
        var error = Fails("Events | project-away Nope", Events);

        Assert.Contains("'Nope'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Project_rename_keeps_the_column_in_place()
    {
        Assert.Equal(["TimeGenerated", "Key", "Status", "Tokens"], Names(Run("Events | project-rename Key = KeyId", Events)));
    }

    [Fact]
    public void Project_reorder_puts_the_listed_columns_first()
    {
        Assert.Equal(["Tokens", "KeyId", "TimeGenerated", "Status"], Names(Run("Events | project-reorder Tokens, KeyId", Events)));
    }

    [Fact]
    public void Sort_is_descending_by_default_with_nulls_last()
    {
        Assert.Equal([2500L, 100L, 0L, null], Column(Run("Events | sort by Tokens", Events), "Tokens"));
    }

    [Fact]
    public void Sort_ascending_puts_nulls_first()
    {
        Assert.Equal([null, 0L, 100L, 2500L], Column(Run("Events | order by Tokens asc", Events), "Tokens"));
    }

    [Fact]
    public void Sort_is_stable_on_ties()
    {
        Assert.Equal(["k1", "k3", "k2", "k1"], Column(Run("Events | sort by Status asc", Events), "KeyId"));
    }

    [Fact]
    public void Top_takes_the_first_rows_of_the_sort()
    {
        Assert.Equal([2500L, 100L], Column(Run("Events | top 2 by Tokens", Events), "Tokens"));
    }

    [Fact]
    public void Take_and_limit_cut_the_rows()
    {
        Assert.Equal((2, 3), (Run("Events | take 2", Events).Rows.Count, Run("Events | limit 3", Events).Rows.Count));
    }

    [Fact]
    public void Count_gives_one_row_named_Count()
    {
        var result = Run("Events | where Status >= 400 | count", Events);

        Assert.Equal(["Count:long"], Schema(result));
        Assert.Equal(2L, result.Rows[0][0]);
    }

    [Fact]
    public void Distinct_keeps_the_first_occurrence_order()
    {
        Assert.Equal(["k1", "k2", "k3"], Column(Run("Events | distinct KeyId", Events), "KeyId"));
    }

    [Fact]
    public void Datatable_builds_a_table_of_typed_columns()
    {
        var result = Run("datatable(a:string, b:int, c:dynamic)['x', 1, dynamic([1]), 'y', int(null), dynamic(null)]");

        Assert.Equal(["a:string", "b:int", "c:dynamic"], Schema(result));
        Assert.Equal([1, null], Column(result, "b"));
    }

    [Fact]
    public void Range_includes_both_ends()
    {
        Assert.Equal([1L, 3L, 5L], Column(Run("range x from 1 to 5 step 2"), "x"));
    }

    [Fact]
    public void Range_of_datetimes_steps_by_a_timespan()
    {
        Assert.Equal(3, Run("range t from datetime(2026-01-01) to datetime(2026-01-01 02:00) step 1h").Rows.Count);
    }

    [Fact]
    public void Print_names_unnamed_columns_by_position()
    {
        Assert.Equal(["print_0", "x", "print_2"], Names(Run("print 1, x = 2, 'a'")));
    }

    [Fact]
    public void A_tabular_let_is_a_table()
    {
        Assert.Equal(2, Run("let Failed = Events | where Status >= 400; Failed", Events).Rows.Count);
    }

    [Fact]
    public void A_scalar_let_is_a_value()
    {
        Assert.Equal(["k3"], Column(Run("let threshold = 1000; Events | where Tokens > threshold", Events), "KeyId"));
    }

    [Fact]
    public void A_let_function_is_called_with_arguments()
    {
        Assert.Equal(["k1"], Column(Run("let ForKey = (k:string) { Events | where KeyId == k | take 1 }; ForKey('k1')", Events), "KeyId"));
    }

    [Fact]
    public void A_let_function_takes_arguments_by_name()
    {
        Assert.Equal(["k3"], Column(Run("let big = (min:long, t:long) { t > min }; Events | where big(t = Tokens, min = 1000)", Events), "KeyId"));
    }

    [Fact]
    public void A_let_view_is_a_table_named_by_its_let()
    {
        Assert.Equal(["V", "V"], Column(Run("let V = view () { print x = 1 }; union withsource = Source V, V"), "Source"));
    }

    [Fact]
    public void A_scalar_let_function_is_inlined_over_columns()
    {
        Assert.Equal([101L, 1L, null, 2501L], Column(Run("let plus1 = (x:long) { x + 1 }; Events | project p = plus1(Tokens)", Events), "p"));
    }

    [Fact]
    public void A_stored_function_is_called_by_name()
    {
        var functions = new List<KqlFunction> { new("Failures", [("minStatus", "long")], "{ Events | where Status >= minStatus }") };

        Assert.Equal(2, Run("Failures(400)", [Events], functions).Rows.Count);
    }

    [Fact]
    public void A_stored_function_without_parameters_can_be_called_without_parentheses()
    {
        var functions = new List<KqlFunction> { new("Ok", [], "Events | where Status < 400") };

        Assert.Equal(2, Run("Ok | count", [Events], functions).Rows[0][0] is long n ? (int)n : -1);
    }

    [Fact]
    public void An_error_in_a_stored_function_body_names_the_function_and_the_call()
    {
        var functions = new List<KqlFunction> { new("Broken", [], "Events\n| where Nope > 1") };

        var error = Assert.Throws<KqlException>(() => Run("Events | take 1\n| union Broken()", [Events], functions));

        Assert.Equal((2, 9), (error.Line, error.Column));
        Assert.Contains("in function Broken (its line 2, column 9)", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Nope'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Materialize_runs_its_query_once_however_often_it_is_read()
    {
        var context = new KeyAbuseContent.Engine.Kql.Execution.QueryContext(Now, new KeyAbuseContent.Engine.Kql.Execution.Catalog(
            new Dictionary<string, DataTable> { ["Events"] = Events }, [], new KeyAbuseContent.Engine.Kql.Storage.ColumnarCache()));
        var syntax = KeyAbuseContent.Engine.Kql.Syntax.KqlParser.ParseQuery(new("let M = materialize(Events | where Status >= 400); M | union M | union (M | count)", null, null));

        var rows = KeyAbuseContent.Engine.Kql.Binding.QueryBinder.Bind(syntax, context).Execute(context);

        Assert.Equal((5, 1), (rows.RowCount, context.MaterializeEvaluations));
    }

    [Fact]
    public void A_tabular_let_read_several_times_runs_once_a_query_run_and_gives_each_reader_the_same_rows()
    {
        var context = new KeyAbuseContent.Engine.Kql.Execution.QueryContext(Now, new KeyAbuseContent.Engine.Kql.Execution.Catalog(
            new Dictionary<string, DataTable> { ["Events"] = Events }, [], new KeyAbuseContent.Engine.Kql.Storage.ColumnarCache()));
        var syntax = KeyAbuseContent.Engine.Kql.Syntax.KqlParser.ParseQuery(new(
            "let Failed = Events | where Status >= 400 | extend Doubled = Tokens * 2; Failed | join kind=inner (Failed | project KeyId, D2 = Doubled) on KeyId | union (Failed | count)", null, null));

        var rows = KeyAbuseContent.Engine.Kql.Binding.QueryBinder.Bind(syntax, context).Execute(context);

        Assert.Equal(1, context.LetEvaluations);
        Assert.Equal(Run("Events | where Status >= 400 | extend Doubled = Tokens * 2 | join kind=inner (Events | where Status >= 400 | extend Doubled = Tokens * 2 | project KeyId, D2 = Doubled) on KeyId | union (Events | where Status >= 400 | count)", Events).Rows.Count, rows.RowCount);
    }

    [Fact]
    public void Union_appends_rows_and_fills_missing_columns_with_nulls()
    {
        var result = Run("Events | take 1 | union (print KeyId = 'kx', Extra = 1)", Events);

        Assert.Equal(["TimeGenerated", "KeyId", "Status", "Tokens", "Extra"], Names(result));
        Assert.Equal([null, 1L], Column(result, "Extra"));
    }

    [Fact]
    public void Union_with_empty_tables_keeps_every_row_value_and_type_of_the_one_that_has_rows()
    {
        var empty = Table("Vendor", "TimeGenerated:datetime, KeyId:string, Status:long, Tokens:long");
        const string query = "Events | extend Total = Tokens + 1 | union (Vendor | extend Total = Tokens + 1) | where Status >= 400";

        var result = Run(query, Events, empty);
        var alone = Run("Events | extend Total = Tokens + 1 | where Status >= 400", Events);

        Assert.Equal(Text(alone), Text(result));
        Assert.Equal(2, result.Rows.Count);

        static string Text(DataTable t) => string.Join(" ", Schema(t)) + "\n" + string.Join("\n", t.Rows.Select(r => string.Join("|", r)));
    }

    [Fact]
    public void Union_of_tables_with_rows_concatenates_numbers_datetimes_and_nulls_in_order()
    {
        var other = Table("Other", "TimeGenerated:datetime, Status:long", [At("2026-11-30 09:00"), null], [null, 7L]);

        var result = Run("Events | project TimeGenerated, Status | union Other", Events, other);

        Assert.Equal([200L, 401L, 403L, 200L, null, 7L], Column(result, "Status"));
        Assert.Equal([At("2026-11-30 09:00"), null], Column(result, "TimeGenerated").Skip(4));
    }

    [Fact]
    public void Union_as_a_source_takes_several_tables()
    {
        Assert.Equal(8, Run("union Events, Events", Events).Rows.Count);
    }

    [Fact]
    public void Union_gives_same_named_columns_of_different_types_one_column_per_type()
    {
        var result = Run("print V = 1 | union (print V = 'a')");

        Assert.Equal(["V_long:long", "V_string:string"], Schema(result));
    }

    [Fact]
    public void An_unknown_column_is_a_binding_error_at_its_position()
    {
        var error = Fails("Events\n| where Nope == 1", Events);

        Assert.Equal((KqlErrorKind.Binding, 2, 9), (error.Kind, error.Line, error.Column));
        Assert.Contains("'Nope'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_table_is_a_binding_error()
    {
        Assert.Equal(KqlErrorKind.Binding, Fails("Nope | take 1").Kind);
    }

    [Fact]
    public void A_function_outside_the_subset_is_refused_by_name()
    {
        var error = Fails("print geo_point_to_s2cell(1.0, 2.0)");

        Assert.Equal(KqlErrorKind.Unsupported, error.Kind);
        Assert.Contains("geo_point_to_s2cell", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plugin_is_refused_by_name()
    {
        var error = Fails("print d = dynamic({'a': 1}) | evaluate bag_unpack(d)");

        Assert.Equal(KqlErrorKind.Unsupported, error.Kind);
        Assert.Contains("bag_unpack", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_of_the_wrong_value_type_is_refused_with_its_row_and_column()
    {
        var bad = Table("Bad", "n:long", ["not a number"]);

        var error = Fails("Bad", bad);

        Assert.Contains("row 1, column 'n'", error.Message, StringComparison.Ordinal);
    }
}
