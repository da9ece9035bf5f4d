using KeyAbuseContent.Engine.Data;
using static KeyAbuseContent.Tests.Engine.Esql.EsqlTestKit;

namespace KeyAbuseContent.Tests.Engine.Esql;

public class ExecutorTests
{
    private static readonly DataTable Logs = Table("logs-app-1", ["@timestamp:date", "status:long", "user:keyword", "bytes:integer"],
        [Time("2026-11-30T10:00:00Z"), 200L, "alice", 10],
        [Time("2026-11-30T10:05:00Z"), 401L, "bob", 20],
        [Time("2026-11-30T10:10:00Z"), null, "Alice", null]);

    private static readonly DataTable Logs2 = Table("logs-app-2", ["@timestamp:date", "status:long", "host:keyword"],
        [Time("2026-11-30T11:00:00Z"), 500L, "h1"]);

    [Fact]
    public void RowLiteralsHaveEsqlTypes()
    {
        var table = Run("ROW i = 1, l = 3000000000, d = 1.5, k = \"x\", b = true, n = null").Table;
        Assert.Equal(["integer", "long", "double", "keyword", "boolean", "null"], table.Columns.Select(c => c.Type));
    }

    [Fact]
    public void FromPatternsMatchIndicesAndSortColumnsByName()
    {
        var table = Run("FROM logs-app-*", Logs, Logs2).Table;
        Assert.Equal(["@timestamp", "bytes", "host", "status", "user"], table.Columns.Select(c => c.Name));
        Assert.Equal(4, table.Rows.Count);
    }

    [Fact]
    public void AnUnknownIndexIsAnErrorAtItsPosition()
    {
        var error = Error("FROM nope", Logs);
        Assert.Equal((1, 6), (error.Line, error.Column));
        Assert.Contains("Unknown index [nope]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MetadataFieldsComeAfterTheColumns()
    {
        var table = Run("FROM logs-app-1 METADATA _index, _version | LIMIT 1", Logs).Table;
        Assert.Equal(["_index", "_version"], table.Columns.Skip(4).Select(c => c.Name));
        Assert.Equal(["logs-app-1", 1L], table.Rows[0].Skip(4));
    }

    [Fact]
    public void TheWindowKeepsTimestampsFromInclusiveToExclusive()
    {
        var result = new KeyAbuseContent.Engine.Esql.EsqlEngine().Execute("FROM logs-app-1 | KEEP user", new Dictionary<string, DataTable> { ["logs-app-1"] = Logs }, Now,
            (Time("2026-11-30T10:00:00Z"), Time("2026-11-30T10:10:00Z")));
        Assert.Equal(["alice", "bob"], result.Table.Rows.Select(r => r[0]));
    }

    [Fact]
    public void WhereDropsRowsWhoseConditionIsNull() => Assert.Equal([401L], Column("FROM logs-app-1 | WHERE status > 300", "status", Logs));

    [Fact]
    public void AComparisonWithNullIsNull() => Assert.Null(Value("ROW x = 1 | EVAL y = x > null | KEEP y"));

    [Fact]
    public void FalseAndNullIsFalse() => Assert.Equal(false, Value("ROW x = false AND null"));

    [Fact]
    public void TrueOrNullIsTrue() => Assert.Equal(true, Value("ROW x = true OR null"));

    [Fact]
    public void TrueAndNullIsNull() => Assert.Null(Value("ROW a = true | EVAL x = a AND null | KEEP x"));

    [Fact]
    public void NotNullIsNull() => Assert.Null(Value("ROW a = 1 | EVAL x = NOT (a > null) | KEEP x"));

    [Fact]
    public void KeywordComparisonIsCaseSensitive() => Assert.Equal(["alice"], Column("FROM logs-app-1 | WHERE user == \"alice\"", "user", Logs));

    [Fact]
    public void RedefiningAColumnMovesItToTheEnd()
    {
        var table = Run("ROW a = 1, b = 2 | EVAL a = a + 10").Table;
        Assert.Equal(["b", "a"], table.Columns.Select(c => c.Name));
        Assert.Equal([2, 11], table.Rows[0]);
    }

    [Fact]
    public void AnUnnamedEvalColumnIsNamedAfterItsText() => Assert.Equal("a + 1", Run("ROW a = 1 | EVAL a + 1").Table.Columns[1].Name);

    [Fact]
    public void KeepPutsColumnsWhereTheMostSpecificPatternSays()
    {
        var table = Run("ROW a1 = 1, a2 = 2, b = 3 | KEEP a*, b, a1").Table;
        Assert.Equal(["a2", "b", "a1"], table.Columns.Select(c => c.Name));
    }

    [Fact]
    public void KeepOfAnUnmatchedWildcardIsAnError() => Assert.Contains("No matches found for pattern [z*]", Error("ROW a = 1 | KEEP z*").Message, StringComparison.Ordinal);

    [Fact]
    public void DropRemovesMatchingColumns() => Assert.Equal(["b"], Run("ROW a1 = 1, a2 = 2, b = 3 | DROP a*").Table.Columns.Select(c => c.Name));

    [Fact]
    public void RenameReplacesAColumnOfTheNewName()
    {
        var table = Run("ROW a = 1, b = 2, c = 3 | RENAME a AS c").Table;
        Assert.Equal(["c", "b"], table.Columns.Select(c => c.Name));
        Assert.Equal([1, 2], table.Rows[0]);
    }

    [Fact]
    public void SortPutsNullsLastAscending() => Assert.Equal([200L, 401L, null], Column("FROM logs-app-1 | SORT status", "status", Logs));

    [Fact]
    public void SortPutsNullsFirstDescending() => Assert.Equal([null, 401L, 200L], Column("FROM logs-app-1 | SORT status DESC", "status", Logs));

    [Fact]
    public void SortHonoursNullsFirst() => Assert.Equal([null, 200L, 401L], Column("FROM logs-app-1 | SORT status ASC NULLS FIRST", "status", Logs));

    [Fact]
    public void SortOrdersKeywordsByCodePoint() => Assert.Equal(["Alice", "alice", "bob"], Column("FROM logs-app-1 | SORT user", "user", Logs));

    [Fact]
    public void SortOnAMultiValueUsesItsSmallestValueAscending()
    {
        var t = Table("t", ["v:long"], [Many(5L, 1L)], [2L]);
        Assert.Equal([Many(5L, 1L), 2L], Column("FROM t | SORT v", "v", t));
    }

    [Fact]
    public void AQueryWithoutLimitReturnsAtMostAThousandRows()
    {
        var big = Table("big", ["n:long"], [.. Enumerable.Range(0, 1500).Select(i => new object?[] { (long)i })]);
        Assert.Equal(1000, Run("FROM big", big).Table.Rows.Count);
    }

    [Fact]
    public void LimitIsCappedAtTenThousandRows()
    {
        var big = Table("big", ["n:long"], [.. Enumerable.Range(0, 12000).Select(i => new object?[] { (long)i })]);
        Assert.Equal(10000, Run("FROM big | LIMIT 20000", big).Table.Rows.Count);
    }

    [Fact]
    public void IntegerDivisionTruncatesTowardZero() => Assert.Equal(-3, Value("ROW x = -7 / 2"));

    [Fact]
    public void DivisionByZeroIsNullWithAWarning()
    {
        var result = Run("ROW a = 1 | EVAL b = a / 0 | KEEP b");
        Assert.Null(Assert.Single(result.Table.Rows)[0]);
        Assert.Equal(
            ["Line 1:22: evaluation of [a / 0] failed, treating result as null. Only first 20 failures recorded.", "Line 1:22: java.lang.ArithmeticException: / by zero"],
            result.Warnings);
    }

    [Fact]
    public void IntegerOverflowIsNullWithAWarning()
    {
        var result = Run("ROW a = 2147483647 | EVAL b = a + 1 | KEEP b");
        Assert.Null(result.Table.Rows[0][0]);
        Assert.Contains("Line 1:31: java.lang.ArithmeticException: integer overflow", result.Warnings);
    }

    [Fact]
    public void IntegerPlusLongIsLong() => Assert.Equal(3L, Value("ROW x = 1 + 2::long"));

    [Fact]
    public void IntegerTimesDoubleIsDouble() => Assert.Equal(3.0, Value("ROW x = 2 * 1.5"));

    [Fact]
    public void ADurationAddsToADate() => Assert.Equal(Time("2024-01-01T01:30:00Z"), Value("ROW x = \"2024-01-01T00:00:00Z\"::datetime + 90 minutes"));

    [Fact]
    public void APeriodAddsOnTheCalendar() => Assert.Equal(Time("2024-02-29T00:00:00Z"), Value("ROW x = \"2024-01-31T00:00:00Z\"::datetime + 1 month"));

    [Fact]
    public void AStringLiteralComparesAsADate() => Assert.Equal(["bob", "Alice"], Column("FROM logs-app-1 | WHERE @timestamp >= \"2026-11-30T10:05:00Z\"", "user", Logs));

    [Fact]
    public void TripleQuotedStringsKeepBackslashes() => Assert.Equal("a\\d", Value("ROW x = \"\"\"a\\d\"\"\""));

    [Fact]
    public void AComparisonOnAMultiValueIsNullWithAWarning()
    {
        var t = Table("t", ["v:long"], [Many(1L, 2L)]);
        var result = Run("FROM t | EVAL x = v > 0 | KEEP x", t);
        Assert.Null(result.Table.Rows[0][0]);
        Assert.Contains("Line 1:19: java.lang.IllegalArgumentException: single-value function encountered multi-value", result.Warnings);
    }

    [Fact]
    public void LikeIsCaseSensitiveWithStarAndQuestionMark() => Assert.Equal(["alice"], Column("FROM logs-app-1 | WHERE user LIKE \"a?i*\"", "user", Logs));

    [Fact]
    public void LikeEscapesAWildcardWithABackslash()
    {
        var t = Table("t", ["x:keyword"], ["a*"], ["ab"]);
        Assert.Equal([true, false], Column("FROM t | EVAL m = x LIKE \"\"\"a\\*\"\"\"", "m", t));
    }

    [Fact]
    public void RlikeMatchesTheWholeString() => Assert.Equal(false, Value("ROW x = \"curl/8.0 extra\" RLIKE \"curl/[0-9.]+\""));

    [Fact]
    public void RlikeTreatsCaretAndDollarAsLiterals() => Assert.Equal(true, Value("ROW x = \"^a$\" RLIKE \"^a$\""));

    [Fact]
    public void InWithANullItemIsNullWhenNothingMatches() => Assert.Null(Value("ROW a = 3 | EVAL x = a IN (1, 2, null) | KEEP x"));

    [Fact]
    public void NotInIsTheNegationOfIn() => Assert.Equal([200L], Column("FROM logs-app-1 | WHERE status NOT IN (401, 403)", "status", Logs));

    [Fact]
    public void IsNullIsNeverNull() => Assert.Equal([false, false, true], Column("FROM logs-app-1 | EVAL n = status IS NULL", "n", Logs));

    [Fact]
    public void AnUnknownColumnIsAnErrorAtItsPosition()
    {
        var error = Error("FROM logs-app-1 | WHERE stauts > 1", Logs);
        Assert.Equal((1, 25), (error.Line, error.Column));
        Assert.Contains("Unknown column [stauts], did you mean [status]?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownFunctionIsAnError() => Assert.Contains("Unknown function [FROB]", Error("ROW x = FROB(1)").Message, StringComparison.Ordinal);

    [Fact]
    public void ATypeErrorNamesTheArgument() =>
        Assert.Contains("argument of [LENGTH(1)] must be [string], found value [1] type [integer]", Error("ROW x = LENGTH(1)").Message, StringComparison.Ordinal);

    [Fact]
    public void AnAggregateOutsideStatsIsAnError() => Assert.Contains("aggregate function [COUNT(*)] not allowed outside STATS", Error("ROW x = 1 | EVAL c = COUNT(*)").Message, StringComparison.Ordinal);

    [Fact]
    public void AWhereConditionMustBeBoolean() => Assert.Contains("Condition expression needs to be boolean", Error("ROW x = 1 | WHERE x").Message, StringComparison.Ordinal);

    [Fact]
    public void AStringLiteralBesideATimeSpanIsADate() => Assert.Equal(Time("2024-01-02T00:00:00Z"), Value("ROW x = 1 day + \"2024-01-01\""));

    [Fact]
    public void AColumnTypedDifferentlyInTwoIndicesIsUnsupported()
    {
        var a = Table("idx-a", ["v:long"], [1L]);
        var b = Table("idx-b", ["v:keyword"], ["x"]);
        Assert.Equal("unsupported", Run("FROM idx-*", a, b).Table.Columns[0].Type);
        Assert.Contains("Cannot use field [v] with unsupported type", Error("FROM idx-* | WHERE v IS NULL", a, b).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IdsComeFromTheTablesIdColumn()
    {
        var t = Table("t", ["_id:keyword", "v:long"], ["doc-1", 1L]);
        var table = Run("FROM t METADATA _id", t).Table;
        Assert.Equal(["v", "_id"], table.Columns.Select(c => c.Name));
        Assert.Equal("doc-1", table.Rows[0][1]);
    }

    [Fact]
    public void IdsAreTheIndexAndRowWithoutAnIdColumn() => Assert.Equal("t:2", Run("FROM t METADATA _id | KEEP _id", Table("t", ["v:long"], [1L], [2L])).Table.Rows[1][0]);
}
