using System.Text.Json.Nodes;
using KeyAbuseContent.Engine.Kql;
using KeyAbuseContent.Engine.Kql.Syntax;

namespace KeyAbuseContent.Tests.Engine.Kql;

public sealed class ParserTests
{
    private static QuerySyntax Parse(string query) => KqlParser.ParseQuery(new SourceText(query, null, null));

    private static ExprSyntax Print(string expression) => ((PrintSyntax)Parse("print " + expression).Body).Items[0];

    [Theory]
    [InlineData("5m", 5 * 60)]
    [InlineData("1h", 3600)]
    [InlineData("30d", 30 * 86400)]
    [InlineData("1.5h", 5400)]
    [InlineData("100ms", 0.1)]
    [InlineData("2min", 120)]
    [InlineData("timespan(1.02:03:04)", 93784)]
    [InlineData("time(00:05:00)", 300)]
    public void A_timespan_literal_reads_its_unit(string literal, double seconds)
    {
        var value = Assert.IsType<LiteralSyntax>(Print(literal));

        Assert.Equal(TimeSpan.FromSeconds(seconds), value.Value);
    }

    [Fact]
    public void A_datetime_literal_reads_as_utc()
    {
        var value = Assert.IsType<LiteralSyntax>(Print("datetime(2026-11-30 03:17:05.5)"));

        Assert.Equal(new DateTime(2026, 11, 30, 3, 17, 5, 500, DateTimeKind.Utc), value.Value);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)value.Value!).Kind);
    }

    [Fact]
    public void A_typed_null_literal_has_its_type_and_no_value()
    {
        var value = Assert.IsType<LiteralSyntax>(Print("long(null)"));

        Assert.Equal((KqlType.Long, (object?)null), (value.Type, value.Value));
    }

    [Fact]
    public void A_dynamic_literal_is_json()
    {
        var value = Assert.IsType<LiteralSyntax>(Print("""dynamic({"a": [1, -2.5, "x"], "b": null})"""));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":[1,-2.5,"x"],"b":null}"""), (JsonNode)value.Value!));
    }

    [Fact]
    public void A_verbatim_string_keeps_its_backslashes()
    {
        var value = Assert.IsType<LiteralSyntax>(Print("""@"C:\temp\x" """));

        Assert.Equal("""C:\temp\x""", value.Value);
    }

    [Fact]
    public void Adjacent_string_literals_are_one_string()
    {
        var value = Assert.IsType<LiteralSyntax>(Print("""'ab' "cd" """));

        Assert.Equal("abcd", value.Value);
    }

    [Fact]
    public void A_bracketed_name_is_an_identifier_and_never_a_keyword()
    {
        var pipe = Assert.IsType<PipeSyntax>(Parse("T | project ['where'], ['my col']").Body);

        var project = Assert.IsType<ProjectSyntax>(pipe.Operator);
        Assert.Equal(["where", "my col"], project.Items.Cast<NameSyntax>().Select(n => n.Name));
    }

    [Fact]
    public void A_bracket_right_after_a_value_indexes_it()
    {
        var index = Assert.IsType<IndexSyntax>(Print("""d["key"]"""));

        Assert.Equal("key", Assert.IsType<LiteralSyntax>(index.Index).Value);
    }

    [Fact]
    public void Comments_are_skipped()
    {
        var pipe = Assert.IsType<PipeSyntax>(Parse("T // the table\n| take 5 // five").Body);

        Assert.IsType<TakeSyntax>(pipe.Operator);
    }

    [Fact]
    public void Hyphenated_operator_names_are_one_operator()
    {
        var query = Parse("T | project-away a | mv-expand b to typeof(long) | project-rename c = d");

        var ops = Operators(query.Body);
        Assert.Collection(ops,
            op => Assert.IsType<ProjectAwaySyntax>(op),
            op => Assert.Equal(KqlType.Long, Assert.IsType<MvExpandSyntax>(op).Items[0].To),
            op => Assert.IsType<ProjectRenameSyntax>(op));
    }

    [Fact]
    public void And_binds_tighter_than_or()
    {
        var expr = Assert.IsType<BinarySyntax>(Print("a or b and c"));

        Assert.Equal("or", expr.Operator);
        Assert.Equal("and", Assert.IsType<BinarySyntax>(expr.Right).Operator);
    }

    [Fact]
    public void Multiplication_binds_tighter_than_comparison_and_addition()
    {
        var expr = Assert.IsType<BinarySyntax>(Print("a + b * c > d"));

        Assert.Equal(">", expr.Operator);
        var sum = Assert.IsType<BinarySyntax>(expr.Left);
        Assert.Equal(("+", "*"), (sum.Operator, Assert.IsType<BinarySyntax>(sum.Right).Operator));
    }

    [Theory]
    [InlineData("x !has 'a'", "!has")]
    [InlineData("x !contains_cs 'a'", "!contains_cs")]
    [InlineData("x =~ 'a'", "=~")]
    [InlineData("x matches regex 'a+'", "matches regex")]
    public void String_operators_keep_their_spelling(string expression, string op)
    {
        Assert.Equal(op, Assert.IsType<BinarySyntax>(Print(expression)).Operator);
    }

    [Theory]
    [InlineData("x in (1, 2)", "in")]
    [InlineData("x !in ('a')", "!in")]
    [InlineData("x in~ ('a')", "in~")]
    [InlineData("x !in~ ('a')", "!in~")]
    [InlineData("x has_any ('a', 'b')", "has_any")]
    public void List_operators_keep_their_spelling(string expression, string op)
    {
        Assert.Equal(op, Assert.IsType<ListOperatorSyntax>(Print(expression)).Operator);
    }

    [Fact]
    public void An_in_list_may_hold_a_subquery()
    {
        var list = Assert.IsType<ListOperatorSyntax>(Print("x in (T | distinct c)"));

        Assert.IsType<PipeSyntax>(Assert.Single(list.Items));
    }

    [Fact]
    public void Nodes_keep_the_offset_where_they_start()
    {
        var pipe = Assert.IsType<PipeSyntax>(Parse("T\n| where x > 1").Body);

        var where = Assert.IsType<WhereSyntax>(pipe.Operator);
        Assert.Equal(("T\n| ".Length, "T\n| where x ".Length), (where.Position, where.Predicate.Position));
    }

    [Fact]
    public void Let_statements_precede_the_query()
    {
        var query = Parse("let n = 5m;\nlet f = (x:long) { x + 1 };\nT | take 1");

        Assert.Collection(query.Statements,
            s => Assert.Equal("n", Assert.IsType<LetSyntax>(s).Name),
            s => Assert.Equal(KqlType.Long, Assert.IsType<LetFunctionSyntax>(s).Parameters[0].Type));
    }

    [Fact]
    public void A_stored_function_body_may_keep_its_braces()
    {
        var body = KqlParser.ParseFunctionBody(new SourceText("{ let a = 1; T | take a }", "F", null));

        Assert.Single(body.Statements);
        Assert.IsType<PipeSyntax>(body.Body);
    }

    [Fact]
    public void A_syntax_error_names_its_line_and_column()
    {
        var error = Assert.Throws<KqlException>(() => Parse("T\n| where (x > 1"));

        Assert.Equal((KqlErrorKind.Syntax, 2, 15), (error.Kind, error.Line, error.Column));
        Assert.Contains("')'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_operator_outside_the_subset_is_refused_by_name_and_place()
    {
        var error = Assert.Throws<KqlException>(() => Parse("T\n  | make-series c = count() on t step 1h"));

        Assert.Equal((KqlErrorKind.Unsupported, 2, 5), (error.Kind, error.Line, error.Column));
        Assert.Contains("'make-series'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_statement_outside_the_subset_is_refused()
    {
        var error = Assert.Throws<KqlException>(() => Parse("set query_now = datetime(2020-01-01);\nT"));

        Assert.Equal(KqlErrorKind.Unsupported, error.Kind);
        Assert.Contains("'set'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_query_statement_is_refused()
    {
        var error = Assert.Throws<KqlException>(() => Parse("T | take 1;\nU | take 1"));

        Assert.Equal((KqlErrorKind.Unsupported, 2, 1), (error.Kind, error.Line, error.Column));
    }

    [Fact]
    public void A_timespan_with_an_unknown_unit_is_a_syntax_error()
    {
        var error = Assert.Throws<KqlException>(() => Parse("print 5parsecs"));

        Assert.Equal(KqlErrorKind.Syntax, error.Kind);
        Assert.Contains("5parsecs", error.Message, StringComparison.Ordinal);
    }

    private static List<OperatorSyntax> Operators(ExprSyntax expr)
    {
        var ops = new List<OperatorSyntax>();
        while (expr is PipeSyntax pipe)
        {
            ops.Insert(0, pipe.Operator);
            expr = pipe.Source;
        }
        return ops;
    }
}
