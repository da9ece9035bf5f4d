using System.Text.Json.Nodes;
using static KeyAbuseContent.Tests.Engine.Kql.KqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Kql;

public sealed class ScalarFunctionTests
{
    [Theory]
    [InlineData("tostring(42)", "42")]
    [InlineData("tolong('17')", 17L)]
    [InlineData("tolong('x')", null)]
    [InlineData("toint(2.9)", 2)]
    [InlineData("todouble('1.5')", 1.5)]
    [InlineData("toreal(3)", 3.0)]
    [InlineData("tobool('true')", true)]
    [InlineData("strcat('a', 1, 'b')", "a1b")]
    [InlineData("strcat_delim('|', 'a', 'b', 'c')", "a|b|c")]
    [InlineData("strcat_array(dynamic(['a', 'b']), ', ')", "a, b")]
    [InlineData("tolower('AbC')", "abc")]
    [InlineData("toupper('AbC')", "ABC")]
    [InlineData("strlen('abc')", 3L)]
    [InlineData("substring('abcdef', 2, 3)", "cde")]
    [InlineData("replace_string('a-b-c', '-', '+')", "a+b+c")]
    [InlineData("extract('sk-([a-z]+)', 1, 'key sk-proj x')", "proj")]
    [InlineData("extract('nomatch(x)', 1, 'abc')", "")]
    [InlineData("iff(1 > 2, 'yes', 'no')", "no")]
    [InlineData("iif(true, 1, 2)", 1L)]
    [InlineData("iff(bool(null), 1, 2)", 2L)]
    [InlineData("case(1 > 2, 'a', 2 > 1, 'b', 'c')", "b")]
    [InlineData("coalesce(long(null), 7)", 7L)]
    [InlineData("coalesce('', 'x')", "x")]
    [InlineData("max_of(1, 5, 3)", 5L)]
    [InlineData("min_of(2.5, 1)", 1.0)]
    [InlineData("max_of(long(null), 3)", 3L)]
    [InlineData("isempty('')", true)]
    [InlineData("isnotempty('a')", true)]
    [InlineData("isnull(real(null))", true)]
    [InlineData("isnotnull(1)", true)]
    [InlineData("not(true)", false)]
    [InlineData("round(2.345, 2)", 2.35)]
    [InlineData("round(2.5)", 3.0)]
    [InlineData("floor(7, 5)", 5L)]
    [InlineData("log(1)", 0.0)]
    [InlineData("sqrt(16)", 4.0)]
    [InlineData("array_length(dynamic([1, 2, 3]))", 3L)]
    [InlineData("array_length(dynamic({'a': 1}))", null)]
    [InlineData("set_has_element(dynamic(['a', 'b']), 'b')", true)]
    [InlineData("set_has_element(dynamic([401, 403]), 404)", false)]
    [InlineData("hourofday(datetime(2026-11-30 17:45))", 17)]
    [InlineData("datetime_diff('day', datetime(2026-12-01 00:10), datetime(2026-11-30 23:50))", 1L)]
    [InlineData("datetime_diff('hour', datetime(2026-11-30 12:00), datetime(2026-11-30 09:59))", 3L)]
    [InlineData("datetime_diff('month', datetime(2027-01-01), datetime(2026-11-30))", 2L)]
    [InlineData("format_datetime(datetime(2026-11-30 03:07:09), 'yyyy-MM-dd HH:mm')", "2026-11-30 03:07")]
    [InlineData("format_datetime(datetime(2026-11-30 03:07:09.25), 'd/M/yy h:m:s.ff')", "30/11/26 3:7:9.25")]
    [InlineData("ipv4_is_private('10.1.2.3')", true)]
    [InlineData("ipv4_is_private('172.32.0.1')", false)]
    [InlineData("ipv4_is_private('192.168.7.7')", true)]
    [InlineData("ipv4_is_private('not an ip')", null)]
    [InlineData("ipv4_is_in_range('203.0.113.9', '203.0.113.0/24')", true)]
    [InlineData("ipv4_is_in_range('203.0.114.9', '203.0.113.0/24')", false)]
    [InlineData("ipv4_is_in_any_range('8.8.8.8', '10.0.0.0/8', '8.8.0.0/16')", true)]
    [InlineData("ipv4_is_in_any_range('8.8.8.8', dynamic(['10.0.0.0/8', '1.1.1.1']))", false)]
    [InlineData("ipv4_is_match('192.168.1.1/24', '192.168.1.255')", true)]
    [InlineData("ipv4_is_match('192.168.1.1', '192.168.1.2')", false)]
    [InlineData("ipv6_is_in_range('2001:db8:1::7', '2001:db8::/32')", true)]
    [InlineData("ipv6_is_in_range('2001:db9::1', '2001:db8::/32')", false)]
    [InlineData("ipv6_is_in_range('2001:db8::1', 'not a range')", null)]
    [InlineData("ipv6_is_in_any_range('a5e:f127:8a9d:146d:e102:b5d3:c755:abcd', 'a5e:f127:8a9d:146d:e102:b5d3:c755:f6cd/112')", true)]
    [InlineData("ipv6_is_in_any_range('a5e:f127:8a9d:146d:e102:b5d3:c756:abd1', dynamic(['a5e:f127:8a9d:146d:e102:b5d3:c755:f6cd/112', '0:0:0:0:0:ffff:c0a8:ac/60']))", false)]
    [InlineData("ipv6_is_in_any_range('203.0.113.9', dynamic(['2001:db8::/32', '203.0.113.0/24']))", true)]
    [InlineData("ipv6_is_in_any_range('2001:db8::1', '203.0.113.0/24')", false)]
    [InlineData("ipv6_is_match('::ffff:7f00:1', '127.0.0.1')", true)]
    [InlineData("ipv6_is_match('fe80::85d:e82c:9446:7994', 'fe80::85d:e82c:9446:7995', 127)", true)]
    [InlineData("ipv6_is_match('fe80::85d:e82c:9446:7994/120', 'fe80::85d:e82c:9446:7995')", true)]
    [InlineData("ipv6_is_match('fe80::85d:e82c:9446:7994', 'fe80::85d:e82c:9446:7995')", false)]
    [InlineData("'abc' matches regex '^a.c$'", true)]
    [InlineData("5 between (1 .. 5)", true)]
    [InlineData("6 !between (1 .. 5)", true)]
    [InlineData("'B' in~ ('a', 'b')", true)]
    [InlineData("'B' in ('a', 'b')", false)]
    [InlineData("'c' !in ('a', 'b')", true)]
    [InlineData("'a quick fox' has_any ('slow', 'fox')", true)]
    [InlineData("'a quick fox' has_all ('quick', 'dog')", false)]
    [InlineData("'Abc' =~ 'aBC'", true)]
    [InlineData("'Abc' !~ 'aBC'", false)]
    [InlineData("'python-requests/2' startswith 'PYTHON'", true)]
    [InlineData("'python-requests/2' startswith_cs 'PYTHON'", false)]
    [InlineData("'report.pdf' endswith '.PDF'", true)]
    [InlineData("'abc' !contains 'x'", true)]
    public void A_function_gives_its_documented_value(string expression, object? expected)
    {
        Assert.Equal(expected, Scalar($"print {expression}"));
    }

    [Fact]
    public void Split_gives_an_array_of_strings()
    {
        var value = (JsonNode)Scalar("print split('a;b;;c', ';')")!;

        Assert.Equal("""["a","b","","c"]""", value.ToJsonString());
    }

    [Fact]
    public void Pack_array_keeps_the_value_types()
    {
        var value = (JsonNode)Scalar("print pack_array(1, 'a', 2.5, true)")!;

        Assert.Equal("""[1,"a",2.5,true]""", value.ToJsonString());
    }

    [Fact]
    public void Parse_json_reads_text_and_members_are_reached_with_dots_and_brackets()
    {
        var result = Run("""print d = parse_json('{"a": {"b": [10, 20, 30]}}') | project x = d.a.b[1], y = d["a"]["b"][-1], z = d.nope""");

        Assert.Equal(["20", "30", null], result.Rows[0].Select(v => (v as JsonNode)?.ToJsonString()));
    }

    [Fact]
    public void Tostring_of_a_dynamic_string_has_no_quotes_and_of_an_object_is_compact_json()
    {
        var result = Run("""print a = tostring(dynamic('x')), b = tostring(dynamic({"k": [1, "v"]}))""");

        Assert.Equal(["x", """{"k":[1,"v"]}"""], result.Rows[0]);
    }

    [Fact]
    public void Column_ifexists_reads_a_present_column_and_defaults_for_an_absent_one()
    {
        var t = Table("T", "a:string", ["x"]);

        var result = Run("T | project p = column_ifexists('a', 'd'), q = column_ifexists('b', 'd')", t);

        Assert.Equal(["x", "d"], result.Rows[0]);
    }

    [Fact]
    public void Startofday_and_startofmonth_truncate()
    {
        var result = Run("print d = startofday(datetime(2026-11-30 17:45)), m = startofmonth(datetime(2026-11-30 17:45))");

        Assert.Equal([At("2026-11-30"), At("2026-11-01")], result.Rows[0]);
    }

    [Fact]
    public void In_accepts_a_tabular_subquery()
    {
        var keys = Table("Keys", "KeyId:string", ["k1"], ["k1"], ["k3"]);
        var events = Table("E", "KeyId:string", ["k1"], ["k2"], ["k3"]);

        Assert.Equal(["k1", "k3"], Column(Run("E | where KeyId in (Keys | distinct KeyId)", keys, events), "KeyId"));
    }

    [Fact]
    public void Not_in_a_subquery_keeps_the_others()
    {
        var keys = Table("Keys", "KeyId:string", ["k1"]);
        var events = Table("E", "KeyId:string", ["k1"], ["k2"]);

        Assert.Equal(["k2"], Column(Run("E | where KeyId !in ((Keys | project KeyId))", keys, events), "KeyId"));
    }

    [Fact]
    public void In_expands_a_dynamic_array_in_its_list()
    {
        Assert.Equal(true, Scalar("print 403 in (dynamic([401, 403]))"));
    }

    [Fact]
    public void Toscalar_reads_the_first_value_of_a_query()
    {
        var t = Table("T", "n:long", [3L], [9L]);

        Assert.Equal(9L, Scalar("let top = toscalar(T | summarize max(n)); print top", t));
    }

    [Fact]
    public void A_regex_that_does_not_compile_is_a_binding_error()
    {
        var error = Fails("print 'a' matches regex '(['");

        Assert.Contains("regular expression", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Coalesce_of_number_columns_takes_each_rows_first_non_null_argument()
    {
        var t = Table("T", "A:long, B:int, C:real", [null, 2, 0.5], [1L, null, null], [null, null, null]);

        var result = Run("T | extend L = coalesce(A, B), R = coalesce(C, A, 9.5)", t);

        Assert.Equal([2L, 1L, null], Column(result, "L"));
        Assert.Equal([0.5, 1.0, 9.5], Column(result, "R"));
    }
}
