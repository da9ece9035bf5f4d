using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Esql;

public class CommandTests
{
    private static readonly DataTable Events = Table("events", ["key:keyword", "n:long", "color:keyword"],
        ["a", 1L, "blue"],
        ["b", 2L, "blue"],
        ["c", 3L, "blue"],
        [null, 4L, "blue"]);

    private static readonly DataTable Owners = Table("owners", ["key:keyword", "owner:keyword", "color:keyword"],
        ["a", "ann", "red"],
        ["b", "bo", "green"],
        ["b", "bea", "yellow"]);

    [Fact]
    public void LookupJoinAddsTheLookupFieldsAfterTheInputs()
    {
        var table = Run("FROM events | KEEP key, n | LOOKUP JOIN owners ON key", Events, Owners).Table;
        Assert.Equal(["key", "n", "color", "owner"], table.Columns.Select(c => c.Name));
    }

    [Fact]
    public void LookupJoinFieldsReplaceInputColumnsOfTheSameName() =>
        Assert.Equal(["red", "green", "yellow", null, null], Column("FROM events | LOOKUP JOIN owners ON key", "color", Events, Owners));

    [Fact]
    public void LookupJoinReturnsOneRowPerMatch() =>
        Assert.Equal(["a", "b", "b", "c", null], Column("FROM events | LOOKUP JOIN owners ON key", "key", Events, Owners));

    [Fact]
    public void LookupJoinKeepsRowsWithoutAMatch() => Assert.Equal([null, null], Column("FROM events | WHERE n >= 3 | LOOKUP JOIN owners ON key", "owner", Events, Owners));

    [Fact]
    public void LookupJoinOnAMultiValuedKeyMatchesNothingWithAWarning()
    {
        var t = Table("t", ["key:keyword"], [Many("a", "b")]);
        var result = Run("FROM t | LOOKUP JOIN owners ON key", t, Owners);
        Assert.Null(result.Table.Rows[0][result.Table.IndexOf("owner")]);
        Assert.Contains("Line 1:10: java.lang.IllegalArgumentException: LOOKUP JOIN encountered multi-value", result.Warnings);
    }

    [Fact]
    public void LookupJoinOnSeveralFieldsNeedsAllToMatch()
    {
        var left = Table("left", ["a:keyword", "b:long"], ["x", 1L], ["x", 2L]);
        var right = Table("right", ["a:keyword", "b:long", "v:keyword"], ["x", 2L, "hit"]);
        Assert.Equal([null, "hit"], Column("FROM left | LOOKUP JOIN right ON a, b", "v", left, right));
    }

    [Fact]
    public void LookupJoinRefusesAWildcard() => Assert.Contains("* is not allowed in LOOKUP JOIN", Error("FROM events | LOOKUP JOIN own* ON key", Events, Owners).Message, StringComparison.Ordinal);

    [Fact]
    public void LookupJoinNeedsTheKeyOnTheRight() =>
        Assert.Contains("Unknown column [n] in right side of join", Error("FROM events | LOOKUP JOIN owners ON n", Events, Owners).Message, StringComparison.Ordinal);

    [Fact]
    public void MvExpandMakesARowPerValue()
    {
        var table = Run("ROW a = [1, 2, 3], b = \"x\" | MV_EXPAND a").Table;
        Assert.Equal(["a", "b"], table.Columns.Select(c => c.Name));
        Assert.Equal([1, 2, 3], table.Rows.Select(r => r[0]));
    }

    [Fact]
    public void MvExpandKeepsANullRow() => Assert.Equal([null], Column("ROW a = null | MV_EXPAND a", "a"));

    [Fact]
    public void DissectSplitsOnDelimiters()
    {
        var table = Run("ROW a = \"1.2.3.4 GET /x\" | DISSECT a \"%{ip} %{verb} %{path}\"").Table;
        Assert.Equal(["a", "ip", "verb", "path"], table.Columns.Select(c => c.Name));
        Assert.Equal(["1.2.3.4", "GET", "/x"], table.Rows[0].Skip(1));
    }

    [Fact]
    public void DissectThatDoesNotMatchGivesNulls() => Assert.Equal([null, null], Run("ROW a = \"foo bar\" | DISSECT a \"%{b} %{c} baz\"").Table.Rows[0].Skip(1));

    [Fact]
    public void DissectAppendsWithTheSeparator() => Assert.Equal("foo,bar,baz", Value("ROW a = \"foo 1 bar 2 baz\" | DISSECT a \"%{+b} %{c} %{+b} %{d} %{+b}\" APPEND_SEPARATOR=\",\" | KEEP b"));

    [Fact]
    public void DissectSkipsRepeatedDelimitersAfterAnArrow() => Assert.Equal("bar", Value("ROW a = \"foo      bar\" | DISSECT a \"%{b->} %{c}\" | KEEP c"));

    [Fact]
    public void GrokExtractsTypedCaptures()
    {
        var table = Run("ROW a = \"12 15.5 true\" | GROK a \"%{NUMBER:b:int} %{NUMBER:c:float} %{WORD:d:boolean}\"").Table;
        Assert.Equal(["keyword", "integer", "double", "boolean"], table.Columns.Select(c => c.Type));
        Assert.Equal([12, 15.5, true], table.Rows[0].Skip(1));
    }

    [Fact]
    public void GrokMatchesAnywhereInTheString() => Assert.Equal(123, Value("ROW a = \"x Georgi Facello 123\" | GROK a \"%{WORD:f} %{WORD:l} %{NUMBER:n:int}\" | KEEP n"));

    [Fact]
    public void GrokOfARepeatedNameIsAMultiValue() => Assert.Equal(Many("foo", "bar"), Value("ROW a = \"foo bar\" | GROK a \"%{WORD:b} %{WORD:b}\" | KEEP b"));

    [Fact]
    public void GrokReadsIpsAndTimestamps() =>
        Assert.Equal(["1953-01-23T12:15:00Z", "127.0.0.1", "some.email@foo.com"],
            Run("ROW a = \"1953-01-23T12:15:00Z 127.0.0.1 some.email@foo.com 42\" | GROK a \"%{TIMESTAMP_ISO8601:date} %{IP:ip} %{EMAILADDRESS:email} %{NUMBER:num:int}\" | KEEP date, ip, email").Table.Rows[0]);

    [Fact]
    public void GrokOfAnUnknownPatternIsAnError() => Assert.Contains("Unable to find pattern [NOPE]", Error("ROW a = \"x\" | GROK a \"%{NOPE:x}\"").Message, StringComparison.Ordinal);

    [Fact]
    public void DissectOfAMultiValueMatchesEachValue() =>
        Assert.Equal(Many("a", "c"), Value("ROW x = [\"a b\", \"c d\", \"e\"] | DISSECT x \"%{p} %{q}\" | KEEP p"));
}
